from . import mail_domain_health_wizard
from . import mail_send_preview
from . import mail_deliverability_test
