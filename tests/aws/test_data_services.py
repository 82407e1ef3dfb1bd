"""RDS, KMS, Secrets Manager, ACM, ELBv2 and DynamoDB collectors (per region) and checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from checks.aws.acm import AcmCertificates, certificates_not_expiring
from checks.aws.dynamodb import DynamoTables, pitr_enabled
from checks.aws.elb import LoadBalancerListeners, listeners_tls
from checks.aws.kms import KmsKeys, key_rotation_enabled
from checks.aws.rds import (
    RdsInstances,
    backup_retention,
    multi_az,
    not_publicly_accessible,
    storage_autoscaling,
    storage_encrypted,
)
from checks.aws.secretsmanager import ManagedSecrets, rotation_enabled
from checks.testing import findings, verdicts
from collector.testing import collect_aws
from tests.aws.errors import serve_error
from tests.aws.wire import ACCOUNT

REGION = "eu-west-1"


def postgres(rds: object, name: str, **settings: object) -> str:
    """A standalone 20 GiB PostgreSQL instance; its ARN."""
    reply = rds.create_db_instance(  # type: ignore[attr-defined]
        DBInstanceIdentifier=name,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        AllocatedStorage=20,
        **settings,
    )
    return reply["DBInstance"]["DBInstanceArn"]


def test_rds_instances(session: boto3.Session) -> None:
    rds = session.client("rds", region_name=REGION)

    def db(name: str, **settings: object) -> str:
        return postgres(rds, name, **settings)

    good = db(
        "ledger",
        StorageEncrypted=True,
        PubliclyAccessible=False,
        BackupRetentionPeriod=14,
        MultiAZ=True,
    )
    bad = db(
        "scratch",
        StorageEncrypted=False,
        PubliclyAccessible=True,
        BackupRetentionPeriod=1,
        MultiAZ=False,
    )
    edge = db(
        "edge",
        StorageEncrypted=True,
        PubliclyAccessible=False,
        BackupRetentionPeriod=7,
        MultiAZ=False,
    )
    aurora = rds.create_db_cluster(  # unencrypted, one day of backups, one AZ
        DBClusterIdentifier="aurora",
        Engine="aurora-postgresql",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        StorageEncrypted=False,
        BackupRetentionPeriod=1,
    )["DBCluster"]["DBClusterArn"]
    sound = rds.create_db_cluster(
        DBClusterIdentifier="aurora-ledger",
        Engine="aurora-mysql",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        StorageEncrypted=True,
        BackupRetentionPeriod=14,
    )["DBCluster"]["DBClusterArn"]
    member = rds.create_db_instance(
        DBInstanceIdentifier="aurora-1",
        DBInstanceClass="db.r6g.large",
        Engine="aurora-postgresql",
        DBClusterIdentifier="aurora",
        PubliclyAccessible=True,
    )["DBInstance"]["DBInstanceArn"]

    snapshot = collect_aws(RdsInstances, session, region=REGION)

    # Aurora clusters are judged as clusters (their members' instance records say nothing)
    clusters = {(aurora, False), (sound, True)}
    assert (
        verdicts(storage_encrypted, snapshot)
        == {
            (good, True),
            (bad, False),
            (edge, True),
        }
        | clusters
    )
    assert verdicts(not_publicly_accessible, snapshot) == {
        (good, True),
        (bad, False),
        (edge, True),
        (member, False),
    }
    assert (
        verdicts(backup_retention, snapshot)
        == {(good, True), (bad, False), (edge, True)} | clusters
    )
    assert verdicts(multi_az, snapshot) == {
        (good, True),
        (bad, False),
        (edge, False),
        (aurora, False),  # one member, one AZ
        (sound, False),  # no member yet
    }
    assert findings(storage_encrypted, snapshot)[-2].message == "aurora storage not encrypted"
    assert "not-a-real-password" not in snapshot.model_dump_json()


def test_rds_storage_autoscaling_needs_a_ceiling_above_the_allocated_size(session) -> None:
    rds = session.client("rds", region_name=REGION)
    growing, fixed = postgres(rds, "ledger", MaxAllocatedStorage=200), postgres(rds, "scratch")
    rds.create_db_cluster(
        DBClusterIdentifier="aurora",
        Engine="aurora-postgresql",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
    )
    rds.create_db_instance(  # a cluster member: Aurora storage grows with the cluster
        DBInstanceIdentifier="aurora-1",
        DBInstanceClass="db.r6g.large",
        Engine="aurora-postgresql",
        DBClusterIdentifier="aurora",
    )
    snapshot = collect_aws(RdsInstances, session, region=REGION)
    assert verdicts(storage_autoscaling, snapshot) == {(growing, True), (fixed, False)}
    assert {f.message for f in findings(storage_autoscaling, snapshot)} == {
        "ledger storage 20 GiB, grows up to 200 GiB",
        "scratch storage 20 GiB, no autoscaling",
    }


def test_rds_storage_autoscaling_errors_when_instances_cannot_be_listed(session) -> None:
    serve_error(
        session,
        "before-send.rds.DescribeDBInstances",
        "AccessDenied",
        "User is not authorized to perform: rds:DescribeDBInstances",
        status=403,
    )
    with pytest.raises(ClientError, match="rds:DescribeDBInstances"):
        collect_aws(RdsInstances, session, region=REGION)


def test_kms_rotation_only_judges_keys_in_scope(session: boto3.Session) -> None:
    kms = session.client("kms", region_name=REGION)

    def key(**settings: object) -> dict[str, str]:
        return kms.create_key(**settings)["KeyMetadata"]

    rotating, still, disabled = key(), key(), key()
    kms.enable_key_rotation(KeyId=rotating["KeyId"])
    kms.disable_key(KeyId=disabled["KeyId"])
    key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    key(Origin="EXTERNAL")

    snapshot = collect_aws(KmsKeys, session, region=REGION)

    assert len(snapshot.keys) == 6
    assert verdicts(key_rotation_enabled, snapshot) == {
        (rotating["Arn"], True),
        (still["Arn"], False),
    }


def test_secrets_rotation_without_reading_values(session: boto3.Session) -> None:
    sm = session.client("secretsmanager", region_name=REGION)
    static = sm.create_secret(Name="static-api-key", SecretString="s3cr3t-value-1")["ARN"]
    rotated = sm.create_secret(Name="db-creds", SecretString="s3cr3t-value-2")["ARN"]
    # moto would invoke a rotation Lambda (Docker); managed rotation needs none
    sm.rotate_secret(SecretId=rotated, RotationRules={"AutomaticallyAfterDays": 30})

    snapshot = collect_aws(ManagedSecrets, session, region=REGION)

    assert verdicts(rotation_enabled, snapshot) == {(static, False), (rotated, True)}
    assert "s3cr3t" not in snapshot.model_dump_json()


def certificate(domain: str, days: int) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def import_certificate(session: boto3.Session, domain: str, days: int) -> str:
    cert, key = certificate(domain, days)
    acm = session.client("acm", region_name=REGION)
    return acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]


def test_certificates_judged_against_collection_time(session: boto3.Session) -> None:
    fresh = import_certificate(session, "shop.example.com", 200)  # EC key: not RSA_2048
    soon = import_certificate(session, "old.example.com", 10)

    snapshot = collect_aws(AcmCertificates, session, region=REGION)

    assert verdicts(certificates_not_expiring, snapshot) == {(fresh, True), (soon, False)}
    later = snapshot.model_copy(
        update={"collected_at": snapshot.collected_at + timedelta(days=175)}
    )
    assert verdicts(certificates_not_expiring, later) == {(fresh, False), (soon, False)}


def test_listeners_tls(session: boto3.Session) -> None:
    ec2 = session.client("ec2", region_name=REGION)
    elb = session.client("elbv2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{REGION}{az}")[
            "Subnet"
        ]["SubnetId"]
        for i, az in enumerate("ab")
    ]
    alb = elb.create_load_balancer(Name="web", Subnets=subnets, Type="application")
    alb_arn = alb["LoadBalancers"][0]["LoadBalancerArn"]
    nlb = elb.create_load_balancer(Name="tcp", Subnets=subnets, Type="network")
    nlb_arn = nlb["LoadBalancers"][0]["LoadBalancerArn"]
    target = elb.create_target_group(Name="app", Protocol="HTTP", Port=80, VpcId=vpc)
    forward = [{"Type": "forward", "TargetGroupArn": target["TargetGroups"][0]["TargetGroupArn"]}]
    redirect = [
        {
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
        }
    ]
    cert = import_certificate(session, "web.example.com", 200)

    def listen(
        lb: str, protocol: str, port: int, actions: list[dict[str, object]], **extra: object
    ) -> str:
        reply = elb.create_listener(
            LoadBalancerArn=lb, Protocol=protocol, Port=port, DefaultActions=actions, **extra
        )
        return reply["Listeners"][0]["ListenerArn"]

    certificates = [{"CertificateArn": cert}]
    modern = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    https = listen(alb_arn, "HTTPS", 443, forward, Certificates=certificates, SslPolicy=modern)
    legacy = listen(  # still allows TLS 1.0 and 1.1
        alb_arn,
        "HTTPS",
        8443,
        forward,
        Certificates=certificates,
        SslPolicy="ELBSecurityPolicy-2016-08",
    )
    redirects = listen(alb_arn, "HTTP", 80, redirect)
    plain = listen(alb_arn, "HTTP", 8080, forward)
    sneaky = listen(alb_arn, "HTTP", 8081, redirect)
    elb.create_rule(
        ListenerArn=sneaky,
        Priority=1,
        Conditions=[{"Field": "path-pattern", "Values": ["/health"]}],
        Actions=forward,
    )
    tls = listen(nlb_arn, "TLS", 443, forward, Certificates=certificates, SslPolicy=modern)
    tcp = listen(nlb_arn, "TCP", 5432, forward)

    snapshot = collect_aws(LoadBalancerListeners, session, region=REGION)

    assert verdicts(listeners_tls, snapshot) == {
        (https, True),
        (legacy, False),
        (redirects, True),
        (plain, False),
        (sneaky, False),  # its default redirects, but /health is served over plain HTTP
        (tls, True),
        (tcp, False),
    }
    messages = {f.resource: f.message for f in findings(listeners_tls, snapshot)}
    assert messages[legacy] == (
        "web HTTPS:8443 terminates TLS; policy ELBSecurityPolicy-2016-08 allows TLSv1, "
        "TLSv1.1, TLSv1.2"
    )


def test_dynamodb_pitr(session: boto3.Session) -> None:
    dynamodb = session.client("dynamodb", region_name=REGION)
    for name in ("orders", "sessions"):
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    dynamodb.update_continuous_backups(
        TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )

    snapshot = collect_aws(DynamoTables, session, region=REGION)

    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/"
    assert verdicts(pitr_enabled, snapshot) == {
        (table + "orders", True),
        (table + "sessions", False),
    }


def test_kms_access_denied_propagates(session: boto3.Session) -> None:
    from tests.aws.wire import serve_wire

    session.client("kms", region_name=REGION).create_key()
    body = (
        b'{"__type":"AccessDeniedException","message":"not authorized to kms:GetKeyRotationStatus"}'
    )
    serve_wire(
        session,
        "kms.GetKeyRotationStatus",
        body,
        status=400,
        content_type="application/x-amz-json-1.1",
    )
    with pytest.raises(ClientError, match="AccessDeniedException"):
        collect_aws(KmsKeys, session, region=REGION)
