"""The delivery stage: a finished run's outputs taken to the people who need them.

Owns the delivery plan (`plan`: which files, for whom), owners (`owners`), the messages
(`messages`), S3 uploads with Object Lock (`object_lock`), e-mail (`mail`), tickets (`tickets`)
and the sending itself (`dispatch`). Its settings are the config stage's
(keyaudit.config.delivery).

May import: the report stage and every stage below it (warehouse, sources, evidence, rules,
config, the ground floor). Imported by: the pipeline, flows and the CLI.
"""
