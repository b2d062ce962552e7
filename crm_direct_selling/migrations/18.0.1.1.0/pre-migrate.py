"""18.0.1.1.0: the lifecycle rule's responsible was ``activity_user_id``, a name the
rule's new ``mail.activity.mixin`` uses for the responsible of its own to-dos: keep the
configured users under the new name ``responsible_user_id``."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        SELECT 1 FROM information_schema.columns
         WHERE table_name = 'ds_lifecycle_rule' AND column_name = 'activity_user_id'
        """
    )
    if cr.fetchone():
        cr.execute(
            "ALTER TABLE ds_lifecycle_rule RENAME COLUMN activity_user_id TO responsible_user_id"
        )
