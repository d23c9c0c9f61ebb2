from . import mail_domain_health_wizard
