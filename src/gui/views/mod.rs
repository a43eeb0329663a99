//! The window's views, one room each, named as the `View` variants are: what each shows, its
//! own state and messages, and what it asks the app to do. The app (`gui/mod.rs`) owns them;
//! the plumbing they share (the view context, actions, widgets, failures and their explanations, dialogs) stays in
//! `gui/`.

pub mod certificates;
pub mod first_run;
pub mod history;
pub mod keys;
pub mod replace;
pub mod sign;
pub mod trust_store;
pub mod verify;
