//! The bridge as a VST3 module: the factory and one proxy object per real
//! object (component, controller, or both in one), each answering exactly
//! the interfaces its real object answers, in a host process shared with
//! the other objects of its group and supervised like CLAP's.
//!
//! | module | holds |
//! |---|---|
//! | [`entry`] | `GetPluginFactory`/`ModuleEntry`/`ModuleExit`, the factory, bridged class ids |
//! | [`object`] | the COM layout: interface slots, run-time `queryInterface`, reference counts |
//! | [`proxy`] | what a proxy holds: module, remote object, configuration, caches, states |
//! | [`component`] | `IPluginBase`, `IComponent`, `IAudioProcessor` and friends, `IConnectionPoint` |
//! | [`controller`] | `IEditController` and the controller's companion interfaces |
//! | [`audio`] | `process()` through the shared-memory handoff |
//! | [`state`] | component and controller states through memfds, kept for restarts |
//! | [`callbacks`] | the plugin's host calls, delivered to the DAW |
//! | [`message`] | `IMessage`s and attribute lists across the process boundary |
//! | [`member`] | how the supervisor restores an object |

// Interface methods keep the SDK's names.
#![allow(non_snake_case)]

mod audio;
mod callbacks;
mod component;
mod controller;
pub mod entry;
mod member;
mod message;
mod object;
mod proxy;
mod state;
