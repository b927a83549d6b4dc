"""Publishing: exports, dumps, bundles, VoID and DCAT, the service description, push, linked
data."""
