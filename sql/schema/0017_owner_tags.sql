-- keyaudit warehouse, version 17: the tags that may name an owner (issue 22, part 2).
--
-- A key's owner is its IAM user's owner tag ([owners] user_tag), else the key's description
-- (IAM keeps it as a user tag whose key is the access key id), else its account's owner tag
-- ([delivery.email] owner_tag), else the OU map (views account_owners and key_owners). The tags
-- come from the raw evidence: users' from GetAccountAuthorizationDetails (UserDetailList[].Tags,
-- only where privilege collection ran), accounts' from discovery. Whether a value is an e-mail
-- address is decided once, when the run is loaded (keyaudit.model.address_in), so that every
-- reader of the views agrees with delivery.
create table owner_tags (
    run_id varchar not null,
    account_id varchar not null,
    user_name varchar,                -- NULL: a tag of the account itself
    tag_key varchar not null,
    tag_value varchar not null,
    address varchar                   -- the e-mail address the value holds; NULL when it holds none
);
