//! VST3 groundwork shared by bulkhead's host process and its test host.
//!
//! The `vst3` crate provides bindings, smart pointers and a `Class`/`ComWrapper` pair for
//! implementing interfaces, but none of the objects a *host* must hand to a plugin. This crate
//! holds them, written once:
//!
//! | module | holds |
//! |---|---|
//! | [`bridged`] | bridged bundles: class ids and names, moduleinfo, library and manifest |
//! | [`block`] | the VST3 codec of the audio region: events and parameter queues in an event area, the process context |
//! | [`com`] | the thin COM layer: the entry guard, out-parameter writes, `queryInterface` helpers, interface names |
//! | [`records`] | the protocol's message and attribute records ⇄ local objects |
//! | [`strings`] | UTF-8 ⇄ `char8`/`char16` fixed arrays |
//! | [`stream`] | [`MemoryStream`]: `IBStream` + `ISizeableStream` + `IStreamAttributes` |
//! | [`attributes`] | [`AttributeList`]: `IAttributeList`, enumerable from Rust |
//! | [`message`] | [`Message`]: `IMessage` |
//! | [`host_app`] | [`HostApplication`]: `IHostApplication` + `IPlugInterfaceSupport` |
//! | [`handler`] | [`ComponentHandler`]: `IComponentHandler`(+2, bus activation), `IUnitHandler`(+2), `IProgress`, recording every call |
//! | [`connection`] | [`ConnectionProxy`]: the host-side `IConnectionPoint` real hosts put between component and controller |
//! | [`events`] | [`EventList`]: `IEventList` with a fixed capacity |
//! | [`params`] | [`ParameterChanges`]/[`ParamValueQueue`]: `IParameterChanges`/`IParamValueQueue` with fixed capacity |
//! | [`module`] | [`Module`]: a Linux `.vst3` bundle (dlopen, `ModuleEntry`, `GetPluginFactory`, `ModuleExit`) |
//! | [`factory`] | [`ClassInfo`]/[`FactoryInfo`]: the factory's classes (`IPluginFactory`, 2 and 3) |
//! | [`moduleinfo`] | `Contents/Resources/moduleinfo.json` from a factory's classes |
//!
//! Every interface method implemented here runs inside [`com::guard`]: a panic becomes the
//! API's failure value instead of unwinding into the caller.

// Interface methods and their parameters keep the SDK's names, so one name leads to the SDK,
// the bindings and this code.
#![allow(non_snake_case)]

pub mod attributes;
pub mod block;
pub mod bridged;
pub mod com;
pub mod connection;
pub mod error;
pub mod events;
pub mod factory;
pub mod handler;
pub mod host_app;
pub mod message;
pub mod module;
pub mod moduleinfo;
pub mod params;
pub mod records;
pub mod stream;
pub mod strings;

pub use attributes::{AttrValue, AttributeList};
pub use connection::ConnectionProxy;
pub use error::Vst3Error;
pub use events::EventList;
pub use factory::{ClassInfo, FactoryInfo};
pub use handler::{ComponentHandler, HandlerCall};
pub use host_app::HostApplication;
pub use message::Message;
pub use module::{bundle_binary, Module, ModuleRef, Object};
pub use params::{ParamValueQueue, ParameterChanges};
pub use stream::MemoryStream;
pub use vst3;
