"""Standards frameworks as data: the registry, CASE and Common Standards Project importers, crosswalks and Bloom."""
