/** @odoo-module **/

import { registry } from "@web/core/registry";
import * as tourUtils from "@website_sale/js/tours/tour_utils";

function inDays(days) {
    const date = new Date(Date.now() + days * 86400000);
    return date.toISOString().slice(0, 10);
}

// A distributor (see test_shop_autoship.py) puts a product in the cart, takes two, makes the
// cart an autoship every 2 months from the cart page and finds it under My Autoships.
registry.category("web_tour.tours").add("ds_cart_autoship_tour", {
    url: "/shop",
    steps: () => [
        ...tourUtils.addToCart({ productName: "AS Protein Shake" }),
        tourUtils.goToCart({ quantity: 1 }),
        {
            content: "Take two",
            trigger: '#cart_products div:has(div>a>h6:contains("AS Protein Shake")) a.js_add_cart_json:eq(1)',
            run: "click",
        },
        {
            trigger: '#cart_products div:has(div>a>h6:contains("AS Protein Shake")) input.js_quantity:value(2)',
        },
        {
            content: "Make this an autoship",
            trigger: "button.o_ds_order_autoship_toggle",
            run: "click",
        },
        {
            content: "Every 2",
            trigger: ".o_ds_order_autoship_form.show input[name=interval_number]",
            run: "edit 2",
        },
        {
            content: "Months",
            trigger: ".o_ds_order_autoship_form select[name=interval_unit]",
            run: "select month",
        },
        {
            content: "First order in ten days",
            trigger: ".o_ds_order_autoship_form input.o_ds_order_autoship_date",
            run() {
                this.anchor.value = inDays(10);
            },
        },
        {
            content: "Set up the autoship",
            trigger: "button.o_ds_order_autoship_submit",
            run: "click",
        },
        {
            content: "The autoship is set up from the cart",
            trigger: '.o_ds_autoship_message:contains("products of your cart")',
        },
        {
            trigger: 'td:contains("AS Protein Shake")',
        },
        {
            content: "Back to my autoships",
            trigger: '.o_portal_submenu a[href="/my/autoships"]',
            run: "click",
        },
        {
            content: "The new autoship is listed",
            trigger: '.o_ds_autoship_row:contains("AS Protein Shake"):contains("2")',
        },
    ],
});

// A distributor without a saved payment method (see test_shop_autoship.py): the cart tells
// them how to get one; they pay online saving their payment details, and repeat the order
// from the confirmation page, paid with the payment method just saved.
registry.category("web_tour.tours").add("ds_confirmation_autoship_tour", {
    url: "/shop",
    steps: () => [
        ...tourUtils.addToCart({ productName: "AS Vitamin Service" }),
        tourUtils.goToCart({ quantity: 1 }),
        {
            content: "No saved payment method yet: the cart says how to get one",
            trigger: ".o_ds_order_autoship_cart .o_ds_order_autoship_no_token",
        },
        tourUtils.goToCheckout(),
        {
            content: "Pay with the demo provider",
            trigger: 'input[name="o_payment_radio"][data-payment-method-code="demo"]',
            run: "click",
        },
        {
            trigger: 'input[name="customer_input"]',
            run: "edit 4242424242424242",
        },
        {
            content: "Save my payment details",
            trigger: 'input[name="o_payment_tokenize_checkbox"]',
            run: "click",
        },
        tourUtils.pay(),
        {
            content: "Paid",
            trigger:
                '.oe_website_sale_tx_status:contains("Your payment has been successfully processed.")',
        },
        {
            content: "Repeat this order",
            trigger: ".o_ds_order_autoship_order button.o_ds_order_autoship_toggle",
            run: "click",
        },
        {
            content: "First order in ten days",
            trigger: ".o_ds_order_autoship_form.show input.o_ds_order_autoship_date",
            run() {
                this.anchor.value = inDays(10);
            },
        },
        {
            content: "Set up the autoship",
            trigger: ".o_ds_order_autoship_order button.o_ds_order_autoship_submit",
            run: "click",
        },
        {
            content: "The order will be repeated",
            trigger: '.o_ds_autoship_message:contains("ordered again")',
        },
    ],
});
