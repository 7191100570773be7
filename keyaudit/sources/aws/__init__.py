"""Everything that talks to AWS: sessions, discovery, credential report, access keys."""
