from . import test_health_checks
from . import test_health_cron
from . import test_health_fields
from . import test_health_security
from . import test_health_wizard
from . import test_tour
from . import test_sender_core
