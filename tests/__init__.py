from . import test_health_checks
from . import test_health_cron
