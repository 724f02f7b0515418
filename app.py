"""Wiring only (docs/spec.md §10): one Blueprint per functions/ module and the Powertools middleware."""

import gc

# Cold start: no garbage collection while the modules load. They make about 90,000 objects and almost no garbage, yet
# the collector would run some 200 times on the way, a full pass over all of them included. At the end they are frozen
# (moved out of the collector's reach: no later collection walks them either) and collection resumes
# (docs/performance.md). functions/schedules.py, the other functions' handler module, does the same.
_collecting = gc.isenabled()
gc.disable()

from chalice import Chalice

from functions import (
    cabinet,
    cabinet_card,
    cabinet_feedback,
    cabinet_page,
    cabinet_profile,
    cabinet_transfers,
    campaigns,
    checkout,
    grants,
    health,
    members,
    platforms,
    program,
    reports,
    schedules,
    transfers,
    webhooks,
)
from functions.http import chalice_errors_in_our_shape
from functions.middleware import MIDDLEWARE

# configure_logs=False: Chalice's own logger is named after the app, the same "loyalty" logger Powertools writes to;
# left on, Chalice would set its level to ERROR when it finds no handler and every INFO line would be lost.
app = Chalice(app_name="loyalty", configure_logs=False)
for middleware in MIDDLEWARE:
    app.register_middleware(middleware)
app.register_middleware(chalice_errors_in_our_shape, "http")

for module in (
    health,
    webhooks,
    platforms,
    checkout,
    members,
    program,
    grants,
    reports,
    schedules,
    transfers,
    cabinet,
    cabinet_card,
    cabinet_profile,
    cabinet_transfers,
    cabinet_feedback,
    cabinet_page,
    campaigns,
):
    app.register_blueprint(module.bp)

gc.freeze()
if _collecting:
    gc.enable()
