"""Who may see what: roles, the users file, OpenID Connect claims and the access log."""
