"""The access log: who did what with an account's data, recorded in the same transaction."""
