"""The single Piccolo app that owns every Social Flow table."""

import os

from piccolo.conf.apps import AppConfig, table_finder

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

# One module per domain; add new ones here.
TABLE_MODULES = [
    "models.accounts",
    "models.outbox",
    "models.social",
    "models.notifications",
    "models.live",
    "models.ads",
    "models.payments",
    "models.account_data",
]

APP_CONFIG = AppConfig(
    app_name="social_flow",
    migrations_folder_path=os.path.join(os.path.dirname(CURRENT_DIRECTORY), "piccolo_migrations"),
    table_classes=table_finder(modules=TABLE_MODULES, exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
