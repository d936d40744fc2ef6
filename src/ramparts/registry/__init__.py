"""Models, datasets and endpoints with versions and lineage; the AI bill of materials."""
