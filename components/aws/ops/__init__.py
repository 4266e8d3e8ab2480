"""Operations: budgets, CI identities and runners, container repositories."""
