"""IAM's rules for the names a credential report holds: user names, paths and user ARNs.

A value outside them did not come from IAM, so a row holding one is refused, never stored: a
user "name" with a newline would otherwise print a line of its own into every text output.

Sources: IAM API Reference, CreateUser — `UserName` is 1 to 64 characters of pattern
`[\\w+=,.@-]+`, "upper and lowercase alphanumeric characters with no spaces" and `_+=,.@-`;
`Path` is `/` alone or text that begins and ends with `/` (pattern
`(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)`, at most 512). The same limits are botocore's
iam-2010-05-08 model (`userNameType`: min 1, max 64; `pathType`). IAM User Guide, IAM
identifiers: a user's ARN is `arn:<partition>:iam::<account>:user/<path><name>` (path without
its leading slash), the root user's `arn:<partition>:iam::<account>:root`.

The patterns use only syntax that Python's `re` and RE2 (pyarrow's compute) read the same way.
"""

from __future__ import annotations

import re

from keyaudit.model import ACCOUNT_ID_PATTERN

# AWS's \w means ASCII letters, digits and underscore (its own words above); Python's \w and
# RE2's Unicode classes would also take any letter of any script, so the class is spelled out.
USER_NAME = r"[A-Za-z0-9_+=,.@-]{1,64}"
USER_NAME_RULE = "1 to 64 of A-Z a-z 0-9 _ + = , . @ -"
PARTITION = r"aws[a-z-]*"  # aws, aws-cn, aws-us-gov, aws-iso-b, ...
# Everything before the name: the path's alternatives longest first, so that a match (Python's
# and RE2's alternation both take the first alternative that fits) runs to the last slash.
USER_ARN_HEAD = rf"arn:{PARTITION}:iam::{ACCOUNT_ID_PATTERN}:user(?:/[!-~]+/|/)"
# A user or root ARN; group 1 is its account.
IAM_ARN = rf"arn:{PARTITION}:iam::({ACCOUNT_ID_PATTERN}):(?:root|user/[!-~]+)"
IAM_ARN_RULE = "arn:aws:iam::<12 digits>:user/<name> or :root"

_USER_ARN_HEAD = re.compile(USER_ARN_HEAD)


def names_user(arn: str, user: str) -> bool:
    """Whether `arn` is the ARN of the IAM user `user` (on any path, in any account)."""
    head = _USER_ARN_HEAD.match(arn)
    return head is not None and arn[head.end() :] == user
