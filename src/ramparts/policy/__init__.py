"""Who may do what: roles, RBAC and ABAC decisions, identities and short-lived tokens."""
