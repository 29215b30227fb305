"""Identity: document numbers, people, accounts and activation."""
