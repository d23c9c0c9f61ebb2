from . import mail_domain_health_wizard
from . import mail_send_preview
from . import mail_dmarc_setup
from . import mail_dmarc_report_upload
from . import mail_deliverability_test
