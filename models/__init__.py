from . import mail_domain_health
from . import mail_domain_health_run
from . import mail_domain_health_check
from . import ir_config_parameter
from . import ir_mail_server
from . import res_config_settings
from . import mail_mail
from . import mail_dkim_key
