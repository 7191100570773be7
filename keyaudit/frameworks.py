"""The one registry of the frameworks a rule maps to: its key in a rule's `controls:` (and in
run_rules.controls), its display name, the label the warehouse's control_results.framework and the
report use, how a control id is spelt, and where the mappings come from.

The catalogue validates against it, the warehouse view names frameworks by its labels (a test
checks sql/views/control_rules.sql), and the report, the OCSF export and docs/controls.md
read it. A mapping to an external framework not in CIS AWS Foundations, Security Hub or AWS Config
cites its basis per control in BASIS, so every mapping in docs/controls.md says where it comes from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROWLER = "https://github.com/prowler-cloud/prowler/blob"


@dataclass(frozen=True)
class Framework:
    key: str  # the field of a rule's `controls:`
    name: str  # display name, e.g. "NIST SP 800-53 Rev. 5"
    short: str  # control_results.framework and report tables, e.g. "CIS v5.0"
    pattern: str  # a control id of this framework
    many: bool  # a list of controls (True) or one control (False)
    source: str  # where the mappings come from: name, address, file, commit and date read
    origin: str  # the source in a few words, for tables
    ocsf: str  # the name in an OCSF event's compliance.standards
    example: str  # a control id, for messages

    def prefix(self, control_id: str) -> str:
        """A control with its framework, as the report and `keyaudit rules` print it."""
        return _LABEL.get(self.key, "{short} {id}").format(short=self.short, id=control_id)


_CIS_BENCHMARK = (
    "CIS Amazon Web Services Foundations Benchmark {v}, its recommendation numbers "
    "(https://www.cisecurity.org/benchmark/amazon_web_services)"
)
_ID = r"^[0-9]+(\.[0-9]+)+$"

FRAMEWORKS: tuple[Framework, ...] = (
    Framework(
        key="cis_v1_4_to_v4_0",
        name="CIS AWS Foundations v1.4–v4.0",
        short="CIS v1.4–v4.0",
        pattern=_ID,
        many=False,
        source=_CIS_BENCHMARK.format(v="v1.4.0 to v4.0.1"),
        origin="CIS AWS Foundations Benchmark",
        ocsf="CIS AWS Foundations Benchmark v1.4-v4.0",
        example="1.14",
    ),
    Framework(
        key="cis_v5_0",
        name="CIS AWS Foundations v5.0",
        short="CIS v5.0",
        pattern=_ID,
        many=False,
        source=_CIS_BENCHMARK.format(v="v5.0.0"),
        origin="CIS AWS Foundations Benchmark",
        ocsf="CIS AWS Foundations Benchmark v5.0",
        example="1.13",
    ),
    Framework(
        key="cis_v6_0",
        name="CIS AWS Foundations v6.0",
        short="CIS v6.0",
        pattern=_ID,
        many=False,
        source=_CIS_BENCHMARK.format(v="v6.0.0"),
        origin="CIS AWS Foundations Benchmark",
        ocsf="CIS AWS Foundations Benchmark v6.0",
        example="2.13",
    ),
    Framework(
        key="security_hub",
        name="AWS Security Hub",
        short="Security Hub",
        pattern=r"^[A-Za-z0-9]+\.[0-9]+$",
        many=True,
        source="AWS Security Hub CSPM controls reference, IAM controls "
        "(https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html)",
        origin="AWS Security Hub controls reference",
        ocsf="AWS Security Hub",
        example="IAM.3",
    ),
    Framework(
        key="aws_config",
        name="AWS Config",
        short="AWS Config",
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
        many=True,
        source="AWS Config managed rules, the rule each Security Hub control evaluates "
        "(https://docs.aws.amazon.com/config/latest/developerguide/managed-rules-by-aws-config.html)",
        origin="AWS Config managed rules",
        ocsf="AWS Config",
        example="access-keys-rotated",
    ),
    Framework(
        key="nist_800_53_r5",
        name="NIST SP 800-53 Rev. 5",
        short="NIST SP 800-53 Rev. 5",
        pattern=r"^[A-Z]{2}-[0-9]+(\([0-9]+\))?$",
        many=True,
        source="Prowler's NIST SP 800-53 Rev. 5 crosswalk for AWS: prowler-cloud/prowler, "
        "prowler/compliance/aws/nist_800_53_revision_5_aws.json at commit "
        f"7a00f79a56784384b35cecd6a65c0e1396399337 ({PROWLER}/7a00f79a56784384b35cecd6a65c0e1396399337/"
        "prowler/compliance/aws/nist_800_53_revision_5_aws.json), read 2026-12-03; where it has "
        "no entry, the control text of NIST SP 800-53 Rev. 5 "
        "(https://csrc.nist.gov/pubs/sp/800/53/r5/upd1/final)",
        origin="Prowler crosswalk; control text",
        ocsf="NIST SP 800-53 Rev. 5",
        example="AC-2(3)",
    ),
    Framework(
        key="pci_dss_v4_0_1",
        name="PCI DSS v4.0.1",
        short="PCI DSS v4.0.1",
        pattern=_ID,
        many=True,
        source="Prowler's PCI DSS 4.0 crosswalk for AWS (AWS Config rules listed per "
        "requirement): prowler-cloud/prowler, prowler/compliance/aws/pci_4.0_aws.json "
        f"at commit 03e268722eeaa4a53443564c9dceec7bee359620 ({PROWLER}/"
        "03e268722eeaa4a53443564c9dceec7bee359620/prowler/compliance/aws/pci_4.0_aws.json), read "
        "2026-12-03; PCI DSS v4.0.1 (June 2024) corrects v4.0 without renumbering these "
        "requirements (https://www.pcisecuritystandards.org/document_library/)",
        origin="Prowler crosswalk (AWS Config rules per requirement)",
        ocsf="PCI DSS v4.0.1",
        example="8.2.6",
    ),
    Framework(
        key="soc2",
        name="SOC 2",
        short="SOC 2",
        pattern=r"^CC[0-9]\.[0-9]+$",
        many=True,
        source="AICPA 2017 Trust Services Criteria (revised points of focus 2022), the criteria "
        "and points of focus as quoted in prowler-cloud/prowler, prowler/compliance/aws/"
        f"soc2_aws.json at commit 9799cd41584195f828de1543a0255dc3dc463a94 ({PROWLER}/"
        "9799cd41584195f828de1543a0255dc3dc463a94/prowler/compliance/aws/soc2_aws.json), read "
        "2026-12-03; that file maps no IAM credential check to CC6, so each mapping here rests on "
        "the criterion's own text",
        origin="Trust Services Criteria text",
        ocsf="SOC 2 (2017 Trust Services Criteria)",
        example="CC6.1",
    ),
    Framework(
        key="iso_27001_2022",
        name="ISO/IEC 27001:2022",
        short="ISO/IEC 27001:2022",
        pattern=r"^A\.[5-8]\.[0-9]+$",
        many=True,
        source="Prowler's ISO/IEC 27001:2022 Annex A crosswalk for AWS: prowler-cloud/prowler, "
        "prowler/compliance/aws/iso27001_2022_aws.json at commit "
        f"3be0ed331900bded67e0877e12346ffaec0894af ({PROWLER}/3be0ed331900bded67e0877e12346ffaec0894af/"
        "prowler/compliance/aws/iso27001_2022_aws.json), read 2026-12-03; where it has no entry, "
        "the Annex A control text as quoted there",
        origin="Prowler crosswalk; Annex A text",
        ocsf="ISO/IEC 27001:2022",
        example="A.5.17",
    ),
    Framework(
        key="cis_controls_v8_1",
        name="CIS Controls v8.1",
        short="CIS Controls v8.1",
        pattern=r"^[0-9]{1,2}\.[0-9]{1,2}$",
        many=True,
        source="CIS Critical Security Controls v8.1 (June 2024), the safeguards' own text "
        "(https://www.cisecurity.org/controls/v8-1); Prowler has no CIS Controls file for AWS",
        origin="CIS Controls v8.1 safeguard text",
        ocsf="CIS Controls v8.1",
        example="5.3",
    ),
    Framework(
        key="keyaudit",
        name="keyaudit internal controls",
        short="keyaudit",
        pattern=r"^KA-[0-9]+$",
        many=False,
        source="keyaudit's own controls (keyaudit/rules/catalogue.py INTERNAL_CONTROLS), for "
        "what no external framework covers",
        origin="keyaudit",
        ocsf="keyaudit internal controls",
        example="KA-1",
    ),
)

BY_KEY = {f.key: f for f in FRAMEWORKS}
BY_NAME = {f.name: f for f in FRAMEWORKS}
BY_SHORT = {f.short: f for f in FRAMEWORKS}
KEYS = tuple(BY_KEY)
# The executive summary's Controls table without [report] frameworks: the CIS AWS Foundations
# versions and Security Hub, with the AWS Config rules behind Security Hub and keyaudit's own
# controls (the only mapping of three rules): the table as it was before the other frameworks.
DEFAULT_SUMMARY = (
    "cis_v1_4_to_v4_0",
    "cis_v5_0",
    "cis_v6_0",
    "security_hub",
    "aws_config",
    "keyaudit",
)

# labels as `keyaudit rules` and docs/rules.md have always printed them
_LABEL = {
    "cis_v1_4_to_v4_0": "CIS {id} (v1.4–v4.0)",
    "cis_v5_0": "CIS {id} (v5.0)",
    "cis_v6_0": "CIS {id} (v6.0)",
}


class UnknownFramework(ValueError):
    """A name that is no framework of the registry; the message lists the allowed names."""


def lookup(name: str) -> Framework:
    """A framework by its display name, label or key (case and spacing ignored)."""
    wanted = _squash(name)
    for f in FRAMEWORKS:
        if wanted in {_squash(f.name), _squash(f.short), _squash(f.key)}:
            return f
    raise UnknownFramework(
        f"unknown framework {name!r}; use one of: {', '.join(f.name for f in FRAMEWORKS)}"
    )


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip()).casefold()


# Why each control of a framework without a benchmark of its own is mapped: the Prowler entry
# (requirement id, the Prowler check matched to the keyaudit rule) or the control's own words.
# Prowler checks matched to keyaudit rules:
RULE_CHECKS = {
    "ACCESS_KEY_NOT_ROTATED": ("iam_rotate_access_key_90_days",),
    "ACCESS_KEY_UNUSED": ("iam_user_accesskey_unused", "iam_disable_90_days_credentials"),
    "PASSWORD_UNUSED": ("iam_user_console_access_unused", "iam_disable_90_days_credentials"),
    "ROOT_ACCESS_KEY_PRESENT": ("iam_no_root_access_key",),
    "ROOT_MFA_DISABLED": ("iam_root_mfa_enabled", "iam_root_hardware_mfa_enabled"),
    "ROOT_USED_RECENTLY": ("iam_avoid_root_usage",),
    "CONSOLE_USER_WITHOUT_MFA": ("iam_user_mfa_enabled_console_access",),
    "MULTIPLE_ACTIVE_KEYS": ("iam_user_two_active_access_key",),
    "ACCESS_KEY_CREATED_AT_SETUP": ("iam_user_no_setup_initial_access_key",),
}

BASIS: dict[str, dict[str, str]] = {
    "nist_800_53_r5": {
        "AC-2(1)": "Prowler ac_2_1 (Automated System Account Management) lists "
        "iam_rotate_access_key_90_days, iam_disable_90_days_credentials and iam_no_root_access_key",
        "AC-2(3)": "Prowler ac_2_3 (Disable Accounts: (d) inactive for a defined period) lists "
        "iam_disable_90_days_credentials, the unused-credentials check",
        "AC-6": "Prowler ac_6 (Least Privilege) lists iam_no_root_access_key",
        "AC-6(2)": "control text: users with access to security functions use non-privileged "
        "accounts or roles for nonsecurity functions; the root user kept for daily work is not",
        "AC-6(5)": "control text: restrict privileged accounts to defined personnel or roles; "
        "a long-term access key of an administrator is a privileged credential outside any role",
        "IA-2": "Prowler ia_2 (Identification and Authentication) lists iam_no_root_access_key",
        "IA-2(1)": "Prowler ia_2_1 (MFA to privileged accounts) lists iam_root_mfa_enabled, "
        "iam_root_hardware_mfa_enabled and iam_user_mfa_enabled_console_access",
        "IA-2(2)": "Prowler ia_2_2 (MFA to non-privileged accounts) lists "
        "iam_user_mfa_enabled_console_access",
        "IR-4": "control text: implement an incident handling capability (detection and "
        "analysis, containment, eradication, recovery); AWS's quarantine of a user is its "
        "detection of an exposed key, and the key still active is the incident not contained",
        "IA-5": "control text: IA-5 b. initial authenticator content, d. revoking "
        "authenticators, f. changing or refreshing authenticators within a defined period",
    },
    "pci_dss_v4_0_1": {
        "8.2.1": "Prowler 8.2.1.4 lists iam_no_root_access_key",
        "8.2.2": "Prowler 8.2.2.6 lists iam_no_root_access_key; the requirement keeps shared and "
        "generic accounts to exceptions, and the root user is one sign-in shared by whoever holds it",
        "8.2.6": "Prowler 8.2.6.2 lists iam_user_accesskey_unused, the AWS Config rule for "
        "passwords or active access keys not used within a set number of days",
        "8.3.9": "Prowler 8.3.9.1 lists iam_rotate_access_key_90_days",
        "8.4.1": "Prowler 8.4.1.3 and 8.4.1.4 list iam_root_hardware_mfa_enabled and "
        "iam_root_mfa_enabled",
        "8.4.2": "Prowler 8.4.2.2 lists iam_user_mfa_enabled_console_access; 8.4.2.4 "
        "iam_root_mfa_enabled",
        "8.6.3": "Prowler 8.6.3.1 lists iam_rotate_access_key_90_days",
    },
    "soc2": {
        "CC6.1": "the criterion is about identifying and authenticating users and managing their "
        "credentials, removing those no longer needed: old, unused and unprotected keys, passwords "
        "and root credentials",
        "CC6.2": "the criterion is about issuing credentials only on approval and withdrawing them "
        "when access ends: keys made at setup and never used, unused keys and passwords",
        "CC6.3": "the criterion is about granting and removing access with least privilege in "
        "mind: keys of administrators, the root user's key and its everyday use",
        "CC7.4": "the criterion is about responding to security incidents (contain, fix, tell): a "
        "key AWS quarantined as exposed and still active is an incident not yet contained",
        "CC6.6": "the criterion is about stronger sign-in for access from outside the system's "
        "boundary: console users without MFA",
    },
    "iso_27001_2022": {
        "A.5.15": "Prowler A.5.15 (Access control) lists iam_rotate_access_key_90_days, "
        "iam_user_accesskey_unused, iam_user_console_access_unused, iam_no_root_access_key, "
        "iam_avoid_root_usage, iam_root_mfa_enabled and iam_user_mfa_enabled_console_access",
        "A.5.17": "Prowler A.5.17 (Authentication information) lists iam_root_mfa_enabled and "
        "iam_user_mfa_enabled_console_access; the control is about how secrets are handed out "
        "and looked after",
        "A.5.18": "the control is about granting, reviewing and taking away access rights as the "
        "access policy says: unused keys and passwords",
        "A.5.26": "the control is about responding to security incidents by a set procedure: a "
        "quarantined key still active",
        "A.8.2": "the control is about limiting and managing privileged access: keys of "
        "administrators and the root user's",
        "A.8.5": "Prowler A.8.5 (Secure authentication) lists iam_root_mfa_enabled and "
        "iam_user_mfa_enabled_console_access",
    },
    "cis_controls_v8_1": {
        "4.7": "safeguard text: manage default accounts such as root; disable them or make "
        "them unusable",
        "5.3": "safeguard text: delete or disable dormant accounts after 45 days of inactivity",
        "5.4": "safeguard text: restrict administrator privileges to dedicated administrator "
        "accounts, not used for general work",
        "6.3": "safeguard text: externally exposed enterprise or third-party applications "
        "enforce MFA (the AWS console)",
        "6.5": "safeguard text: require MFA for all administrative access accounts",
    },
}

# Each control's short title in keyaudit's own words, shown beside its number (the framework view,
# docs/controls.md). The standards' texts are copyrighted: a title names what the control is
# about and cites nothing; the number is the citation.
_CIS_AWS = {
    "root_key": "No access key on the root user",
    "root_mfa": "MFA on the root user",
    "root_use": "Root user kept out of daily use",
    "console_mfa": "MFA for every console user",
    "setup_key": "No access key made at user setup",
    "unused": "Credentials unused for 45 days disabled",
    "one_key": "At most one active access key per user",
    "rotation": "Access keys rotated within 90 days",
}
_CIS_AWS_NUMBERS = {
    "cis_v1_4_to_v4_0": ("1.4", "1.5", "1.7", "1.10", "1.11", "1.12", "1.13", "1.14"),
    "cis_v5_0": ("1.3", "1.4", "1.6", "1.9", "1.10", "1.11", "1.12", "1.13"),
    "cis_v6_0": ("2.3", "2.4", "2.6", "2.9", "2.10", "2.11", "2.12", "2.13"),
}
TITLES: dict[str, dict[str, str]] = {
    **{
        key: dict(zip(numbers, _CIS_AWS.values(), strict=True))
        for key, numbers in _CIS_AWS_NUMBERS.items()
    },
    "security_hub": {
        "IAM.3": "Access keys rotated within 90 days",
        "IAM.4": "No access key on the root user",
        "IAM.5": "MFA for every console user",
        "IAM.8": "Credentials unused for 90 days removed",
        "IAM.9": "MFA on the root user",
        "IAM.22": "Credentials unused for 45 days removed",
    },
    "aws_config": {
        "access-keys-rotated": "Access keys rotated within a set number of days",
        "iam-root-access-key-check": "No access key on the root user",
        "iam-user-unused-credentials-check": "Passwords and keys unused for a set time removed",
    },
    "nist_800_53_r5": {
        "AC-2(1)": "Account management supported by automation",
        "AC-2(3)": "Inactive accounts disabled",
        "AC-6": "Least privilege",
        "AC-6(2)": "Everyday work without privileged accounts",
        "AC-6(5)": "Privileged accounts kept to those who need them",
        "IA-2": "Users identified and authenticated",
        "IA-2(1)": "MFA for privileged accounts",
        "IA-2(2)": "MFA for non-privileged accounts",
        "IA-5": "Managing authenticators (issue, change, revoke)",
        "IR-4": "Handling security incidents",
    },
    "pci_dss_v4_0_1": {
        "8.2.1": "A unique ID for every user",
        "8.2.2": "Shared and generic accounts only by exception",
        "8.2.6": "Inactive user accounts removed within 90 days",
        "8.3.9": "Single-factor secrets changed at least every 90 days",
        "8.4.1": "MFA for administrative access",
        "8.4.2": "MFA for all access to the cardholder data environment",
        "8.6.3": "Application and system account secrets protected and changed",
    },
    "soc2": {
        "CC6.1": "Logical access: identifying users and managing credentials",
        "CC6.2": "Credentials issued on approval and removed when no longer needed",
        "CC6.3": "Access granted and removed with least privilege",
        "CC6.6": "Stronger authentication for access from outside",
        "CC7.4": "Responding to security incidents",
    },
    "iso_27001_2022": {
        "A.5.15": "Rules for access control",
        "A.5.17": "Managing authentication information",
        "A.5.18": "Granting, reviewing and removing access rights",
        "A.5.26": "Responding to security incidents",
        "A.8.2": "Restricting privileged access",
        "A.8.5": "Secure authentication",
    },
    "cis_controls_v8_1": {
        "4.7": "Default accounts such as root managed",
        "5.3": "Dormant accounts disabled after 45 days",
        "5.4": "Administrator rights only on dedicated accounts",
        "6.3": "MFA for externally exposed applications",
        "6.5": "MFA for administrative access",
    },
    "keyaudit": {
        "KA-1": "Every account in scope assessed",
        "KA-2": "No new access key left unused",
        "KA-3": "Deactivated access keys deleted",
    },
}


def control_title(key: str, control_id: str) -> str | None:
    """A control's short title in keyaudit's words (TITLES), or None for one without."""
    return TITLES.get(key, {}).get(control_id)
