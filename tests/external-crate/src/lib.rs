//! A user's crate: tools whose arguments are its own structs and enums, with
//! `runwright` as its only dependency.

use runwright::{tool, tool_arg};

/// Where to deliver.
#[tool_arg]
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    /// Street and number.
    pub street: String,
    /// Postal code, as written locally.
    pub zip: String,
}

/// A line of an order.
#[tool_arg]
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// What to deliver.
    pub name: String,
    /// How many.
    pub quantity: u32,
}

/// How fast to deliver.
#[tool_arg]
#[derive(Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Speed {
    Standard,
    Express,
}

/// Delivers items to an address.
///
/// * `to` - where to deliver
/// * `items` - what to deliver
/// * `speed` - how fast
#[tool]
pub fn deliver(to: Address, items: Vec<Item>, speed: Speed) -> String {
    let count: u32 = items.iter().map(|i| i.quantity).sum();
    let speed = match speed {
        Speed::Standard => "standard",
        Speed::Express => "express",
    };
    format!("{count} items to {}, {} ({speed})", to.street, to.zip)
}
