//! Components shared by the pages.
pub mod composer;
pub mod conversation;
pub mod dom;
pub mod follower;
pub mod layout;
pub mod live;
pub mod rating;
pub mod sidebar;
pub mod site;
pub mod state;
