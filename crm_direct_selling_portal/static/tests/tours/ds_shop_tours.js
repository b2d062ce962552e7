/** @odoo-module **/

import { registry } from "@web/core/registry";
import * as tourUtils from "@website_sale/js/tours/tour_utils";

// A distributor (see test_shop.py: rank pricelist of 20 % off, product of 100.00 with
// 10 PV / 8 BV) buys for themselves in the shop at their rank price and sees the PV.
registry.category("web_tour.tours").add("ds_shop_distributor_tour", {
    url: "/shop",
    steps: () => [
        ...tourUtils.searchProduct("DS Shop Vitamin"),
        {
            content: "Open the product",
            trigger: '.oe_product_cart a:contains("DS Shop Vitamin")',
            run: "click",
        },
        {
            content: "The rank price (100.00 minus 20 %)",
            trigger: '#product_detail .oe_price .oe_currency_value:contains("80.00")',
        },
        {
            content: "PV next to the price",
            trigger: '.o_ds_product_points .o_ds_pv:contains("10.00")',
        },
        {
            trigger: '.o_ds_product_points .o_ds_bv:contains("8.00")',
        },
        {
            content: "Add to cart",
            trigger: '#product_detail form #add_to_cart',
            run: "click",
        },
        tourUtils.goToCart(),
        {
            content: "The cart line shows its PV",
            trigger: '#cart_products .o_ds_line_points .o_ds_pv:contains("10.00")',
        },
        {
            content: "The cart total shows the order's PV",
            trigger: '#order_ds_points .o_ds_pv:contains("10.00")',
        },
        {
            content: "No distributor's banner in their own shop",
            trigger: "body:not(:has(.o_ds_shop_banner))",
        },
        // a service only, a complete address: the checkout leads to the payment
        tourUtils.goToCheckout(),
        ...tourUtils.payWithDemo(),
    ],
});

// A visitor follows a distributor's link: the shop names the distributor, the visitor
// buys as a guest (address at checkout) and pays with the demo provider.
registry.category("web_tour.tours").add("ds_shop_visitor_tour", {
    url: "/ds/ref/DSP-LANA",
    steps: () => [
        {
            content: "The shop names the distributor",
            trigger: '.o_ds_shop_banner .o_ds_shop_referrer_name:contains("Leader Lana")',
        },
        {
            trigger: ".o_ds_shop_banner img.o_ds_shop_referrer_photo",
        },
        ...tourUtils.searchProduct("DS Shop Vitamin"),
        {
            content: "Open the product",
            trigger: '.oe_product_cart a:contains("DS Shop Vitamin")',
            run: "click",
        },
        {
            content: "The public price",
            trigger: '#product_detail .oe_price .oe_currency_value:contains("100.00")',
        },
        {
            content: "The banner stays on the product page",
            trigger: '.o_ds_shop_banner:contains("Leader Lana")',
        },
        {
            content: "Add to cart",
            trigger: '#product_detail form #add_to_cart',
            run: "click",
        },
        tourUtils.goToCart(),
        tourUtils.goToCheckout(),
        ...tourUtils.fillAdressForm({
            name: "Visitor Vera",
            phone: "+32 470 00 00 00",
            email: "vera.visitor@example.com",
            street: "1 Rue Neuve",
            city: "Brussels",
            zip: "1000",
        }),
        // a service only: no delivery step, the address leads to the payment
        ...tourUtils.payWithDemo(),
    ],
});
