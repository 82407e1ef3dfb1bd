"""Okta checks: MFA enrolment, inactive users, password and sign-on policies, administrators."""
