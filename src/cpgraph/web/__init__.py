"""The HTML side: pages, the saved-query gallery, charts and the vocabulary documentation."""
