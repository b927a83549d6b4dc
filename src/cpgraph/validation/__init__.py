"""SHACL validation: the one pyshacl call, the neighbourhood of a contribution, contributions."""
