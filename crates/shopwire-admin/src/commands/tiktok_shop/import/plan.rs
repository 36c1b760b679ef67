//! What one TikTok Shop product becomes in our catalog, decided without the database: a
//! SKU per TikTok SKU that has a `seller_sku` and a price our rules accept, grouped as
//! variants of `tt-<product id>` when the product has more than one SKU.

use std::collections::BTreeMap;

use shopwire_core::db::products::{NewProduct, Variant};
use shopwire_core::domain::{Currency, Money};
use shopwire_tiktok_shop::catalog::{CatalogProduct, CatalogSku};

/// The longest SKU, title, product code and option key and value our catalog takes (the
/// limits `inventory set` checks).
const MAX_SKU: usize = 128;
const MAX_TITLE: usize = 512;
const MAX_OPTION_KEY: usize = 64;
const MAX_OPTION_VALUE: usize = 128;
/// The longest TikTok id a link takes (`inventory link` checks the same).
const MAX_TIKTOK_ID: usize = 64;

/// One TikTok SKU to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Planned {
    /// Our product row (its `sku` is the seller's `seller_sku`).
    pub product: NewProduct,
    /// TikTok's product id.
    pub tiktok_product_id: String,
    /// TikTok's SKU id.
    pub tiktok_sku_id: String,
}

/// One TikTok SKU not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Skipped {
    /// TikTok's SKU id.
    pub tiktok_sku_id: String,
    /// Why, in a line.
    pub reason: String,
}

/// The product code our variants of TikTok product `id` share.
pub(super) fn product_code(id: &str) -> String {
    format!("tt-{id}")
}

/// Each SKU of `product` as a planned import or the reason it is skipped.
pub(super) fn plan(product: &CatalogProduct) -> Vec<Result<Planned, Skipped>> {
    let variants = product.skus.len() > 1;
    (product.skus.iter())
        .map(|sku| {
            plan_sku(product, sku, variants).map_err(|reason| Skipped {
                tiktok_sku_id: sku.id.clone(),
                reason: format!("TikTok SKU {} of product {}: {reason}", sku.id, product.id),
            })
        })
        .collect()
}

fn plan_sku(product: &CatalogProduct, sku: &CatalogSku, variants: bool) -> Result<Planned, String> {
    for (what, id) in [("product", &product.id), ("SKU", &sku.id)] {
        if id.trim().is_empty() || id.len() > MAX_TIKTOK_ID {
            return Err(format!(
                "its {what} id is not 1 to {MAX_TIKTOK_ID} characters"
            ));
        }
    }
    let Some(seller_sku) = sku.seller_sku.as_deref() else {
        return Err("no seller_sku (set one on TikTok Shop to import it)".into());
    };
    if seller_sku.chars().count() > MAX_SKU || seller_sku.chars().any(char::is_whitespace) {
        return Err(format!(
            "seller_sku `{seller_sku}` is not 1 to {MAX_SKU} characters without spaces"
        ));
    }
    let base = product.title.trim();
    if base.is_empty() || base.contains('\0') {
        return Err("the product has no title".into());
    }
    let price = price(sku)?;
    let stock = i32::try_from(sku.quantity()).map_err(|_| "its stock is too large".to_owned())?;
    let (title, variant) = match variants {
        true => {
            let options = options(sku)?;
            let values = ordered_values(sku);
            let title = match values.is_empty() {
                true => base.to_owned(),
                false => format!("{base} ({})", values.join(", ")),
            };
            let variant = Variant {
                product_code: product_code(&product.id),
                options,
            };
            (title, Some(variant))
        }
        false => (base.to_owned(), None),
    };
    Ok(Planned {
        product: NewProduct {
            sku: seller_sku.to_owned(),
            title: title.chars().take(MAX_TITLE).collect(),
            price_cents: price.minor,
            currency: price.currency.code().to_owned(),
            stock_on_hand: stock,
            variant,
        },
        tiktok_product_id: product.id.clone(),
        tiktok_sku_id: sku.id.clone(),
    })
}

/// The SKU's price, refused as `inventory set` refuses one: not a currency, not an amount
/// of it, or not something Stripe can charge.
fn price(sku: &CatalogSku) -> Result<Money, String> {
    let Some(price) = &sku.price else {
        return Err("no price".into());
    };
    let Some(amount) = price.amount.as_deref() else {
        return Err("no price".into());
    };
    let currency = Currency::parse(&price.currency)
        .map_err(|_| format!("price currency `{}` is not a currency code", price.currency))?;
    let money = Money::parse(amount, currency).map_err(|e| format!("price `{amount}`: {e}"))?;
    money
        .check_stripe_charge()
        .map_err(|e| format!("price {e}"))?;
    Ok(money)
}

/// The option values of a variant, keyed by [`option_key`] of each sales attribute.
fn options(sku: &CatalogSku) -> Result<BTreeMap<String, String>, String> {
    let mut options = BTreeMap::new();
    for attribute in &sku.sales_attributes {
        let key = option_key(&attribute.name);
        let value = attribute.value_name.trim();
        if value.is_empty()
            || value.chars().count() > MAX_OPTION_VALUE
            || value.chars().any(char::is_control)
        {
            return Err(format!(
                "option `{}` value is not 1 to {MAX_OPTION_VALUE} characters",
                attribute.name
            ));
        }
        if options.insert(key.clone(), value.to_owned()).is_some() {
            return Err(format!("two sales attributes make the option `{key}`"));
        }
    }
    Ok(options)
}

/// The trimmed values in TikTok's order, for the title ("Denim Jacket (M, Blue)").
fn ordered_values(sku: &CatalogSku) -> Vec<&str> {
    (sku.sales_attributes.iter())
        .map(|a| a.value_name.trim())
        .collect()
}

/// An option key our catalog accepts (`[a-z][a-z0-9_]*`, at most 64) from a TikTok
/// attribute name: lowercased, anything else as `_`, `o_` in front unless it starts with a
/// letter ("Size" → `size`, "Shoe Size (EU)" → `shoe_size__eu_`, "2nd colour" → `o_2nd_colour`).
pub(super) fn option_key(name: &str) -> String {
    let key: String = (name.trim().chars())
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_') => c,
            _ => '_',
        })
        .collect();
    let key = match key.starts_with(|c: char| c.is_ascii_lowercase()) {
        true => key,
        false => format!("o_{key}"),
    };
    key.chars().take(MAX_OPTION_KEY).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(json: serde_json::Value) -> CatalogProduct {
        serde_json::from_value(json).expect("a product")
    }

    fn sku(id: &str, seller_sku: &str, size: &str, amount: &str) -> serde_json::Value {
        serde_json::json!({"id": id, "seller_sku": seller_sku,
            "price": {"currency": "USD", "tax_exclusive_price": amount},
            "inventory": [{"quantity": 2}, {"quantity": 3}],
            "sales_attributes": [{"name": "Size", "value_name": size}]})
    }

    #[test]
    fn attribute_names_become_option_keys_our_catalog_accepts() {
        assert_eq!(option_key("Size"), "size");
        assert_eq!(option_key(" Shoe Size (EU) "), "shoe_size__eu_");
        assert_eq!(option_key("2nd colour"), "o_2nd_colour");
        assert_eq!(option_key("Farbe/Größe"), "farbe_gr__e");
        assert_eq!(option_key(""), "o_");
        assert_eq!(option_key(&"x".repeat(100)).len(), 64);
    }

    #[test]
    fn a_product_with_several_skus_makes_variants_titled_with_their_values() {
        let jacket = product(serde_json::json!({"id": "77", "title": "Denim Jacket",
            "skus": [sku("s", "DNM-S", "S", "19.99"), sku("m", "DNM-M", " M ", "21")]}));
        let planned: Vec<Planned> = plan(&jacket)
            .into_iter()
            .map(|p| p.expect("planned"))
            .collect();
        let m = &planned[1].product;
        assert_eq!(
            (m.sku.as_str(), m.title.as_str()),
            ("DNM-M", "Denim Jacket (M)")
        );
        assert_eq!(
            (m.price_cents, m.currency.as_str(), m.stock_on_hand),
            (2100, "usd", 5)
        );
        let variant = m.variant.as_ref().expect("a variant");
        assert_eq!(variant.product_code, "tt-77");
        assert_eq!(
            variant.options,
            BTreeMap::from([("size".into(), "M".into())])
        );
        assert_eq!(
            (
                planned[1].tiktok_product_id.as_str(),
                planned[1].tiktok_sku_id.as_str()
            ),
            ("77", "m")
        );
    }

    #[test]
    fn a_single_sku_is_a_product_of_its_own_and_bad_skus_are_skipped_with_a_reason() {
        let one = product(
            serde_json::json!({"id": "1", "title": "Tee", "skus": [sku("a", "TEE", "M", "5")]}),
        );
        let planned = plan(&one).remove(0).expect("planned");
        assert_eq!(
            (planned.product.title.as_str(), planned.product.variant),
            ("Tee", None)
        );
        let bad = product(serde_json::json!({"id": "2", "title": "Bad", "skus": [
            sku("no-sku", "", "S", "5"), sku("cheap", "C", "M", "0.10"),
            sku("fils", "F", "L", "1.005"), sku("space", "A B", "XL", "5"),
            {"id": "free", "seller_sku": "FREE"},
        ]}));
        let reasons: Vec<String> = (plan(&bad).into_iter())
            .map(|p| p.expect_err("skipped").reason)
            .collect();
        assert!(reasons[0].contains("no seller_sku"), "{reasons:?}");
        assert!(reasons[1].contains("minimum"), "{reasons:?}");
        assert!(
            reasons[2].starts_with("TikTok SKU fils of product 2: price `1.005`"),
            "{reasons:?}"
        );
        assert!(reasons[3].contains("without spaces"), "{reasons:?}");
        assert!(reasons[4].ends_with("no price"), "{reasons:?}");
    }
}
