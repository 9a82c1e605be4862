"""Claims, their facts, family and workflow; the hospital's first report; the family's view."""

urlpatterns: list = []
