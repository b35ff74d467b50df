"""The one table the agreement test's Django client writes and reads."""
from django.db import models


class AgreeRow(models.Model):
    token = models.CharField(max_length=64)
    written = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "agreeapp"
        db_table = "readyd_agree_row"
