"""Bank batches and the bank's return; the scholarship instalments due and the reminders."""

urlpatterns: list = []
