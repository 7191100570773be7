"""The one registry of the frameworks a rule maps to: its key in a rule's `controls:` (and in
run_rules.controls), its display name, the label the warehouse's control_results.framework and the
report use, how a control id is spelt, and where the mappings come from.

The catalogue validates against it, the warehouse view names frameworks by its labels (a test
checks sql/views/_control_results_for.sql), and the report, the OCSF export and docs/controls.md
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
        "8.2.2": "Prowler 8.2.2.6 lists iam_no_root_access_key; requirement text: shared and "
        "generic accounts are used only when necessary, on an exception basis",
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
        "CC6.1": "criterion text: identifies and authenticates users; manages credentials for "
        "infrastructure and software, removing them when no longer required",
        "CC6.2": "criterion text: credentials are issued on authorization and removed when "
        "access is no longer authorized; their appropriateness is reviewed",
        "CC6.3": "criterion text: access is authorized and removed with least privilege in mind",
        "CC7.4": "criterion text: the entity responds to identified security incidents by "
        "executing a defined incident-response program (contain, remediate, communicate)",
        "CC6.6": "criterion text: additional authentication is required when accessing the "
        "system from outside its boundaries",
    },
    "iso_27001_2022": {
        "A.5.15": "Prowler A.5.15 (Access control) lists iam_rotate_access_key_90_days, "
        "iam_user_accesskey_unused, iam_user_console_access_unused, iam_no_root_access_key, "
        "iam_avoid_root_usage, iam_root_mfa_enabled and iam_user_mfa_enabled_console_access",
        "A.5.17": "Prowler A.5.17 (Authentication information) lists iam_root_mfa_enabled and "
        "iam_user_mfa_enabled_console_access; control text: allocation and management of "
        "authentication information is controlled",
        "A.5.18": "control text: access rights are reviewed and removed in line with the access "
        "control policy",
        "A.5.26": "control text: information security incidents are responded to in "
        "accordance with the documented procedures",
        "A.8.2": "control text: the allocation and use of privileged access rights is restricted "
        "and managed",
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
