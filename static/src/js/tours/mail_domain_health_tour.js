import { registry } from "@web/core/registry";

/**
 * Settings ‣ Technical ‣ Email ‣ Domain Health: the wizard lists the domains in use, an
 * administrator adds one, runs the checks and sees a verdict with the record to publish.
 */
registry.category("web_tour.tours").add("mail_domain_health_tour", {
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open Settings",
            trigger: '.o_app[data-menu-xmlid="base.menu_administration"]',
            run: "click",
        },
        {
            content: "Open the Technical menu",
            trigger: '.o_menu_sections [data-menu-xmlid="base.menu_custom"]',
            run: "click",
        },
        {
            content: "Open Domain Health",
            trigger: '.dropdown-item[data-menu-xmlid="mail_domain_health.menu_mail_domain_health_wizard"]',
            run: "click",
        },
        {
            content: "The wizard says which sending provider the checks assume, and why",
            trigger: ".o_mail_domain_health_provider:contains('Custom, as chosen in the settings.')",
        },
        {
            content: "The domains in use are listed",
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains('good.test')",
        },
        {
            content: "Add a domain",
            trigger: ".o_field_widget[name=line_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "Type the domain",
            trigger: ".o_field_widget[name=line_ids] .o_selected_row .o_field_widget[name=domain] input",
            run: "edit bad.test",
        },
        {
            content: "Run the checks",
            trigger: "button[name=action_check]",
            run: "click",
        },
        {
            content: "The failing domain shows a verdict",
            trigger:
                ".o_field_widget[name=check_ids] .o_data_row:contains('bad.test'):contains('SPF'):contains('Fail')",
        },
        {
            content: "with the exact record to publish",
            trigger:
                ".o_field_widget[name=check_ids] .o_data_row:contains('bad.test'):contains('SPF') .o_field_CopyClipboardChar:contains('bad.test. IN TXT'):contains('v=spf1 include:_spf.mailer.test ip4:198.51.100.7 -all')",
        },
        {
            content: "and a button to copy it",
            trigger:
                ".o_field_widget[name=check_ids] .o_data_row:contains('bad.test'):contains('SPF') .o_field_CopyClipboardChar .o_clipboard_button",
        },
        {
            content: "The healthy domain passes",
            trigger: ".o_field_widget[name=check_ids] .o_data_row:contains('good.test'):contains('Pass')",
        },
        {
            content: "Open the failing SPF verdict",
            trigger:
                ".o_field_widget[name=check_ids] .o_data_row:contains('bad.test'):contains('SPF') td[name=summary_text]",
            run: "click",
        },
        {
            content: "The record to publish comes as Host / Type / Value too",
            trigger: ".modal .o_field_widget[name=fix_host]:contains('@')",
        },
        {
            content: "with the value to paste",
            trigger:
                ".modal .o_field_widget[name=fix_value]:contains('v=spf1 include:_spf.mailer.test ip4:198.51.100.7 -all')",
        },
    ],
});
