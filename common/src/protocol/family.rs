/// Declares one request family: the request enum, the reply enum, the
/// handler trait with one method per request, exhaustive dispatch, and the
/// `Request` impls that tie each struct to its response.
macro_rules! request_family {
    (
        $control:ident, $reply:ident, $handler:ident {
            $( $variant:ident ( $req:ty ) -> $resp:ty => $method:ident; )*
        }
    ) => {
        #[derive(Debug, serde::Serialize, serde::Deserialize)]
        pub enum $control { $( $variant($req), )* }

        #[derive(Debug, serde::Serialize, serde::Deserialize)]
        pub enum $reply { $( $variant($resp), )* }

        /// Serves every request of the family; one method per request.
        pub trait $handler {
            $( fn $method(&mut self, instance: $crate::InstanceId, request: $req) -> $resp; )*
        }

        impl $control {
            pub fn dispatch<H: $handler + ?Sized>(
                self,
                instance: $crate::InstanceId,
                handler: &mut H,
            ) -> $reply {
                match self {
                    $( Self::$variant(r) => $reply::$variant(handler.$method(instance, r)), )*
                }
            }

            pub fn name(&self) -> &'static str {
                match self { $( Self::$variant(_) => stringify!($variant), )* }
            }
        }

        $(
            impl $crate::protocol::Request for $req {
                type Response = $resp;
                fn into_control(self) -> $crate::protocol::wire::Control {
                    $control::$variant(self).into()
                }
                fn from_reply(reply: $crate::protocol::wire::Reply) -> Option<$resp> {
                    #[allow(unreachable_patterns, irrefutable_let_patterns)]
                    match <$reply>::try_from(reply) {
                        Ok($reply::$variant(r)) => Some(r),
                        _ => None,
                    }
                }
            }
        )*
    };
}
