-- 010_chain_heads.sql -- tamper-evident provenance chains.
--
-- The hashes of provenance_events only show that the rows agree with one
-- another; someone who can write this database can rewrite a chain and
-- recompute every hash.  So whoever writes a chain's last event (commit;
-- sluicectl takedown when it appends) records the chain's head -- owner,
-- seq and hash of the last event -- and seals the heads of one transaction
-- with one Ed25519 signature under a key only it holds
-- (common/include/sl/audit.h has the signed bytes); `sluicectl audit
-- verify` checks it with the public key alone.
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

-- One signature over the heads a writer stored in one transaction (a
-- commit batch, a takedown): see audit.h for the signed bytes.
CREATE TABLE head_seals (
    seal_id       bigserial PRIMARY KEY,
    key_id        text NOT NULL REFERENCES audit_keys (key_id),
    n_heads       integer NOT NULL CHECK (n_heads >= 0),
    signature     text NOT NULL
                  CHECK (octet_length(signature) = 128 AND signature !~ '[^0-9a-f]'),
    signed_at     timestamptz NOT NULL DEFAULT now()
);

-- The heads of every chain (owner_kind, owner_id as in provenance_events):
-- an event's seq and hash, and the seal that signed it.  Rows are never
-- changed (a seal covers exactly its rows): a writer that appends to a
-- chain (takedown) adds a row; the chain's head is its row of highest seq.
CREATE TABLE chain_heads (
    owner_kind    text NOT NULL,
    owner_id      text NOT NULL,
    seq           integer NOT NULL,
    head_hash     text NOT NULL
                  CHECK (octet_length(head_hash) = 64 AND head_hash !~ '[^0-9a-f]'),
    seal_id       bigint NOT NULL REFERENCES head_seals (seal_id),
    PRIMARY KEY (owner_kind, owner_id, seq)
);
CREATE INDEX chain_heads_seal_idx ON chain_heads (seal_id);
