"""Every GCP check on snapshots the real AssetServiceClient collected from recorded pages."""

from __future__ import annotations

import pytest

from checks.gcp.audit_logs import data_access_audit_logs
from checks.gcp.compute import default_network_absent, no_internet_admin_ports, os_login_enforced
from checks.gcp.iam import no_primitive_user_roles, no_public_bindings, service_account_keys_rotated
from checks.gcp.kms import key_rotation
from checks.gcp.log_buckets import GcpLogBuckets, bucket_retention_minimum, buckets_locked
from checks.gcp.models import (
    GcpAuditConfigs,
    GcpBuckets,
    GcpCompute,
    GcpIamPolicies,
    GcpKmsKeys,
    GcpNetworks,
    GcpServiceAccountKeys,
    GcpSqlInstances,
)
from checks.gcp.org_policy import GcpOrgPolicies, constraints_enforced
from checks.gcp.sql import (
    backups_enabled,
    high_availability,
    no_public_access,
    point_in_time_recovery,
    ssl_required,
)
from checks.gcp.storage import public_access_prevention, uniform_bucket_access
from checks.testing import findings, verdicts

RM = "//cloudresourcemanager.googleapis.com"
ORG_RES, PROD, DEV = (
    f"{RM}/organizations/100200300",
    f"{RM}/projects/111111111111",
    f"{RM}/projects/222222222222",
)
BUCKET = "//storage.googleapis.com/annexa-public-assets"


def test_public_bindings_across_pages(collect, api):
    policies = collect(GcpIamPolicies)
    assert verdicts(no_public_bindings, policies) == {
        (ORG_RES, True),
        (PROD, True),
        (BUCKET, False),
        (DEV, False),
    }
    messages = {f.resource: f.message for f in findings(no_public_bindings, policies)}
    assert messages[DEV] == "public: allAuthenticatedUsers as roles/viewer"
    tokens = [q.get("pageToken") for p, q in api.requests if p.endswith(":searchAllIamPolicies")]
    assert tokens == [None, ["CgRwYWdlMg"]]


def test_primitive_roles_only_for_user_members(collect):
    policies = collect(GcpIamPolicies)
    assert verdicts(no_primitive_user_roles, policies) == {
        (ORG_RES, False),  # user:founder as roles/owner (the group beside it is not judged)
        (PROD, True),  # roles/editor for the Google APIs service agent only
        (BUCKET, True),
        (DEV, False),
    }
    messages = {f.resource: f.message for f in findings(no_primitive_user_roles, policies)}
    assert messages[ORG_RES] == "primitive roles held by user:founder@example.com as roles/owner"


def test_one_sweep_serves_both_iam_checks(collect, api):
    collect(GcpIamPolicies), collect(GcpIamPolicies)
    assert sum(p.endswith(":searchAllIamPolicies") for p, _ in api.requests) == 2  # two pages


def test_service_account_keys_rotated_at_collection_time(collect):
    keys = collect(GcpServiceAccountKeys)
    sa = "//iam.googleapis.com/projects/annexa-prod/serviceAccounts"
    assert verdicts(service_account_keys_rotated, keys) == {
        (
            f"{sa}/deployer@annexa-prod.iam.gserviceaccount.com/keys/0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
            True,
        ),
        (
            f"{sa}/ci@annexa-prod.iam.gserviceaccount.com/keys/1111aaaa2222bbbb3333cccc4444dddd5555eeee",
            False,
        ),
        # exactly 90 days old: still within the period
        (
            f"{sa}/ci@annexa-prod.iam.gserviceaccount.com/keys/9999ffff8888eeee7777dddd6666cccc5555bbbb",
            True,
        ),
    }  # SYSTEM_MANAGED and disabled keys are not judged


def test_bucket_checks_share_one_sweep(collect, api):
    buckets = collect(GcpBuckets)
    b = "//storage.googleapis.com/"
    assert verdicts(uniform_bucket_access, buckets) == {
        (f"{b}annexa-public-assets", True),
        (f"{b}annexa-prod-data", True),
        (f"{b}annexa-legacy-logs", False),
    }
    assert verdicts(public_access_prevention, buckets) == {
        (f"{b}annexa-public-assets", False),  # inherited
        (f"{b}annexa-prod-data", True),
        (f"{b}annexa-legacy-logs", False),  # never set
    }
    bucket_calls = [
        q for p, q in api.requests if q.get("assetTypes") == ["storage.googleapis.com/Bucket"]
    ]
    assert len(bucket_calls) == 1 and bucket_calls[0]["contentType"] == ["1"]
    assert bucket_calls[0]["pageSize"] == ["1000"]


def test_firewall_admin_ports(collect):
    fw = "//compute.googleapis.com/projects/{}/global/firewalls/{}"
    assert verdicts(no_internet_admin_ports, collect(GcpCompute)) == {
        (fw.format("annexa-dev", "allow-ssh-world"), False),
        (fw.format("annexa-dev", "allow-rdp-range"), False),  # 3389 inside 3000-4000
        (fw.format("annexa-dev", "allow-all-world-disabled"), True),
        (fw.format("annexa-prod", "allow-ssh-iap"), True),
        (fw.format("annexa-prod", "allow-https-world"), True),
        (fw.format("annexa-prod", "egress-all"), True),
        (fw.format("annexa-sandbox", "allow-all-ipv6"), False),  # ::/0, every protocol
    }


def test_os_login_and_no_other_metadata_kept(collect):
    compute = collect(GcpCompute)
    p = "//compute.googleapis.com/projects/"
    assert verdicts(os_login_enforced, compute) == {
        (f"{p}annexa-prod", True),
        (f"{p}annexa-dev", False),
        (f"{p}annexa-sandbox", False),
    }
    dumped = compute.model_dump_json()
    assert "ssh-ed25519" not in dumped and "DB_PASSWORD" not in dumped


def test_default_network_per_project(collect):
    assert verdicts(default_network_absent, collect(GcpNetworks)) == {
        ("projects/annexa-prod", True),
        ("projects/annexa-dev", False),
        ("projects/annexa-sandbox", False),
    }


def test_cloud_sql_checks(collect):
    sql = collect(GcpSqlInstances)
    i = "//cloudsql.googleapis.com/projects/{}/instances/{}"
    prod, dev, office, replica, ledger = (
        i.format("annexa-prod", "prod-db"),
        i.format("annexa-dev", "dev-db"),
        i.format("annexa-prod", "office-db"),
        i.format("annexa-prod", "prod-db-replica"),
        i.format("annexa-prod", "ledger-db"),
    )
    assert verdicts(no_public_access, sql) == {
        (prod, True),
        (dev, False),
        (office, True),  # public IP, one office range authorized
        (replica, True),
        (ledger, True),
    }
    assert verdicts(ssl_required, sql) == {
        (prod, True),
        (dev, False),
        (office, True),
        (replica, True),
        (ledger, True),
    }
    primaries = {(prod, True), (dev, False), (office, True), (ledger, True)}
    assert verdicts(backups_enabled, sql) == primaries
    assert verdicts(point_in_time_recovery, sql) == {
        (prod, True),  # Postgres: pointInTimeRecoveryEnabled
        (dev, False),  # neither backups nor PITR
        (office, False),  # MySQL with backups, binary log off
        (ledger, True),  # MySQL: binaryLogEnabled
    }
    assert verdicts(high_availability, sql) == {
        (prod, True),
        (dev, False),
        (office, False),
        (ledger, True),
    }
    messages = {f.resource: f.message for f in findings(point_in_time_recovery, sql)}
    assert messages[office] == ("MYSQL_8_0: automated backups on, point-in-time recovery off")


def test_kms_rotation(collect):
    k = "//cloudkms.googleapis.com/projects/annexa-prod/locations/europe-west1/"
    k += "keyRings/app/cryptoKeys/"
    assert verdicts(key_rotation, collect(GcpKmsKeys)) == {
        (f"{k}rotated-90d", True),
        (f"{k}rotated-yearly", False),
        (f"{k}never-rotated", False),
        (f"{k}period-unscheduled", False),
    }  # the signing key and the destroyed one are not judged


def test_data_access_audit_logs_with_inheritance(collect):
    audit = collect(GcpAuditConfigs)
    assert verdicts(data_access_audit_logs, audit) == {
        (PROD, True),  # inherited from folders/400500600
        (DEV, False),  # DATA_WRITE only for one service
        (f"{RM}/projects/333333333333", False),  # DATA_READ exempts a member
        (f"{RM}/projects/444444444444", True),
    }
    messages = {f.resource: f.message for f in findings(data_access_audit_logs, audit)}
    assert messages[DEV] == "not logged: DATA_WRITE"
    assert messages[f"{RM}/projects/333333333333"] == (
        "not logged: DATA_READ exempts serviceAccount:etl@annexa-data.iam.gserviceaccount.com"
    )


def test_log_bucket_retention_and_lock_across_pages(collect, api):
    buckets = collect(GcpLogBuckets)
    b = "//logging.googleapis.com/projects/{}/locations/{}/buckets/{}"
    required, prod_default, archive, dev_default, app = (
        b.format("annexa-prod", "global", "_Required"),
        b.format("annexa-prod", "global", "_Default"),
        b.format("annexa-prod", "europe-west1", "audit-archive"),
        b.format("annexa-dev", "global", "_Default"),
        b.format("annexa-dev", "europe-west1", "app-logs"),
    )  # old-logs is pending deletion: not judged
    assert verdicts(bucket_retention_minimum, buckets) == {
        (required, True),
        (prod_default, False),
        (archive, True),
        (dev_default, False),  # no retentionDays: the documented 30-day default
        (app, True),
    }
    assert verdicts(buckets_locked, buckets) == {
        (prod_default, False),
        (archive, True),
        (dev_default, False),
        (app, False),
    }  # _Required is Google's and cannot be locked by anyone
    tokens = [
        q.get("pageToken")
        for p, q in api.requests
        if q.get("assetTypes") == ["logging.googleapis.com/LogBucket"]
    ]
    assert tokens == [None, ["bG9ncy0y"]]


def test_org_policy_constraints_at_the_organisation_and_below(collect):
    policies = collect(GcpOrgPolicies)
    org = "organizations/100200300"
    assert verdicts(constraints_enforced, policies) == {
        (f"{org}/policies/iam.allowedPolicyMemberDomains", True),  # the folder merges, keeps it
        (f"{org}/policies/compute.vmExternalIpAccess", True),
        ("projects/222222222222/policies/compute.vmExternalIpAccess", False),  # restoreDefault
        (f"{org}/policies/storage.publicAccessPrevention", True),
        ("projects/222222222222/policies/storage.publicAccessPrevention", False),
        (f"{org}/policies/iam.disableServiceAccountKeyCreation", False),  # booleanPolicy {}
        (f"{org}/policies/sql.restrictPublicIp", False),  # never set
    }  # projects/111111111111 allows one instance an external IP: still restricted


def test_org_policies_only_from_an_organisation_scope(endpoint, registry):
    from collector.collect import Target
    from collector.snapshots import SnapshotCache
    from tests.gcp.conftest import anonymous_accounts

    (account,) = anonymous_accounts(endpoint, ["projects/annexa-prod"])
    cache = SnapshotCache(registry.collectors, account.make_scope)
    with pytest.raises(ValueError, match="cannot see the policies it inherits"):
        cache.get(GcpOrgPolicies, Target("gcp", "projects/annexa-prod"))
