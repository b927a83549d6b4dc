"""SPARQL text: the one lexer, join planning, and what a query may reach outside."""
