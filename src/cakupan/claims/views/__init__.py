"""Pages of the claims app: claims, their facts, family and workflow, the family's view and the
hospital's first report (claims.py, forms in forms.py)."""
