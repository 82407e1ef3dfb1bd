"""IAM Identity Center collector: users, group memberships and account assignments.

Identity Center lives in one region of the management (or delegated administrator) account:
``aws.identity_center_region``, else the account's home region. An account without an
instance there yields an empty snapshot saying so.
"""

from __future__ import annotations

from collections import defaultdict

from checks.aws.models import IdentityCenterAssignment, IdentityCenterUser, IdentityCenterUsers
from collector.aws.paging import each, pages
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    IdentityCenterUsers,
    permissions=[
        "sso:ListInstances",
        "sso:ListPermissionSets",
        "sso:DescribePermissionSet",
        "sso:ListAccountsForProvisionedPermissionSet",
        "sso:ListAccountAssignments",
        "identitystore:ListUsers",
        "identitystore:ListGroups",
        "identitystore:ListGroupMemberships",
    ],
)
def identity_center_users(scope: AwsScope) -> IdentityCenterUsers:
    region = scope.settings.identity_center_region or scope.region
    sso = scope.client("sso-admin", region=region)
    store = scope.client("identitystore", region=region)
    instances = pages(sso, "list_instances", "Instances")
    if not instances:
        return IdentityCenterUsers(region=region, instance_arn=None, users=())
    instance, store_id = instances[0]["InstanceArn"], instances[0]["IdentityStoreId"]
    users = pages(store, "list_users", "Users", IdentityStoreId=store_id)
    groups = {
        g["GroupId"]: g.get("DisplayName") or g["GroupId"]
        for g in pages(store, "list_groups", "Groups", IdentityStoreId=store_id)
    }
    members: dict[str, list[str]] = defaultdict(list)  # group id -> user ids
    for group_id in groups:
        for m in pages(
            store,
            "list_group_memberships",
            "GroupMemberships",
            IdentityStoreId=store_id,
            GroupId=group_id,
        ):
            members[group_id].append(m["MemberId"]["UserId"])

    granted: dict[str, list[IdentityCenterAssignment]] = defaultdict(list)  # user id ->
    for arn in pages(sso, "list_permission_sets", "PermissionSets", InstanceArn=instance):
        name = sso.describe_permission_set(InstanceArn=instance, PermissionSetArn=arn)[
            "PermissionSet"
        ]["Name"]
        accounts = pages(
            sso,
            "list_accounts_for_provisioned_permission_set",
            "AccountIds",
            InstanceArn=instance,
            PermissionSetArn=arn,
        )
        for rows in each(
            lambda account, arn=arn: pages(
                sso,
                "list_account_assignments",
                "AccountAssignments",
                InstanceArn=instance,
                AccountId=account,
                PermissionSetArn=arn,
            ),
            accounts,
        ):
            for row in rows:
                principal, account = row["PrincipalId"], row["AccountId"]
                if row["PrincipalType"] == "GROUP":
                    for user_id in members.get(principal, ()):
                        granted[user_id].append(
                            IdentityCenterAssignment(
                                account_id=account, permission_set=name, via_group=groups[principal]
                            )
                        )
                else:
                    granted[principal].append(
                        IdentityCenterAssignment(account_id=account, permission_set=name)
                    )
    return IdentityCenterUsers(
        region=region,
        instance_arn=instance,
        users=tuple(
            IdentityCenterUser(
                id=u["UserId"],
                user_name=u["UserName"],
                emails=tuple(e["Value"] for e in u.get("Emails") or () if e.get("Value")),
                display_name=u.get("DisplayName"),
                assignments=tuple(granted.get(u["UserId"], ())),
            )
            for u in users
        ),
    )
