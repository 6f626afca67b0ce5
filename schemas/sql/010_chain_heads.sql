-- 010_chain_heads.sql -- tamper-evident provenance chains.
--
-- The hashes of provenance_events only show that the rows agree with one
-- another; someone who can write this database can rewrite a chain and
-- recompute every hash.  So whoever writes a chain's last event (commit;
-- sluicectl takedown when it appends) signs the chain's head -- owner, seq
-- and hash of the last event -- with an Ed25519 key only it holds
-- (common/include/sl/audit.h has the signed bytes), and `sluicectl audit
-- verify` checks the signature with the public key alone.
--
-- audit_keys: the public keys that sign heads, by id = the public key in
-- lowercase hex.  purpose: 'commit' (the commit stage's key file,
-- audit.key.file) or 'operator' (sluicectl's, audit.operator.key.file).
-- A registered key is not by itself a trusted one: a database writer can
-- register their own; `audit verify --trusted-key` pins the keys expected.
CREATE TABLE audit_keys (
    key_id        text PRIMARY KEY
                  CHECK (octet_length(key_id) = 64 AND key_id !~ '[^0-9a-f]'),
    purpose       text NOT NULL CHECK (purpose IN ('commit', 'operator')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- One signed head per chain (owner_kind, owner_id as in provenance_events).
CREATE TABLE chain_heads (
    owner_kind    text NOT NULL,
    owner_id      text NOT NULL,
    seq           integer NOT NULL,
    head_hash     text NOT NULL
                  CHECK (octet_length(head_hash) = 64 AND head_hash !~ '[^0-9a-f]'),
    key_id        text NOT NULL REFERENCES audit_keys (key_id),
    signature     text NOT NULL
                  CHECK (octet_length(signature) = 128 AND signature !~ '[^0-9a-f]'),
    signed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_kind, owner_id)
);
