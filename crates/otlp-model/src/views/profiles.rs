//! [`ProfilesView`], [`Profiles`] and [`ProfileRef`].

use core::iter::FusedIterator;

use otlp_proto::collector::profiles::v1development::ExportProfilesServiceRequest;
use otlp_proto::common::v1::InstrumentationScope;
use otlp_proto::profiles::v1development::{Profile, ProfilesData, ResourceProfiles, ScopeProfiles};
use otlp_proto::resource::v1::Resource;

use super::flatten::{Flatten, Nesting};
use super::impl_view;

/// Zero-copy iteration and counting over profiles; see the [module docs](super).
///
/// Profiles reference a request-wide `ProfilesDictionary` for strings, stacks and attributes;
/// the view does not resolve those indices, it only walks the nesting.
pub trait ProfilesView {
    /// The `ResourceProfiles` this view covers.
    fn as_resource_profiles(&self) -> &[ResourceProfiles];

    /// Every profile with the resource and scope it belongs to, in order.
    fn profiles(&self) -> Profiles<'_> {
        Profiles {
            inner: Flatten::new(self.as_resource_profiles()),
        }
    }

    /// The number of `Profile` messages (the unit of
    /// `ExportProfilesPartialSuccess.rejected_profiles`).
    fn profile_count(&self) -> usize {
        let mut count = 0;
        for resource_profiles in self.as_resource_profiles() {
            for scope_profiles in &resource_profiles.scope_profiles {
                count += scope_profiles.profiles.len();
            }
        }
        count
    }

    /// The number of samples over all profiles (the Go Collector's `SampleCount`, the item
    /// count `otelcol` reports for the profiles signal).
    fn sample_count(&self) -> usize {
        let mut count = 0;
        for resource_profiles in self.as_resource_profiles() {
            for scope_profiles in &resource_profiles.scope_profiles {
                for profile in &scope_profiles.profiles {
                    count += profile.samples.len();
                }
            }
        }
        count
    }
}

impl_view!(
    ProfilesView,
    as_resource_profiles,
    ResourceProfiles,
    resource_profiles,
    [ExportProfilesServiceRequest, ProfilesData]
);

#[derive(Debug)]
pub(crate) struct ProfileNesting;

impl Nesting for ProfileNesting {
    type Resource = ResourceProfiles;
    type Scope = ScopeProfiles;
    type Item = Profile;
    fn scopes(resource: &ResourceProfiles) -> &[ScopeProfiles] {
        &resource.scope_profiles
    }
    fn items(scope: &ScopeProfiles) -> &[Profile] {
        &scope.profiles
    }
}

/// Iterator over every profile of a [`ProfilesView`]; see [`ProfilesView::profiles`].
#[derive(Clone)]
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Profiles<'a> {
    inner: Flatten<'a, ProfileNesting>,
}

impl<'a> Iterator for Profiles<'a> {
    type Item = ProfileRef<'a>;

    fn next(&mut self) -> Option<ProfileRef<'a>> {
        self.inner
            .next()
            .map(|(resource_profiles, scope_profiles, profile)| ProfileRef {
                resource_profiles,
                scope_profiles,
                profile,
            })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl FusedIterator for Profiles<'_> {}

impl core::fmt::Debug for Profiles<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Profiles").finish_non_exhaustive()
    }
}

/// One profile, with the `ResourceProfiles` and `ScopeProfiles` it was found in.
#[derive(Debug, Clone, Copy)]
pub struct ProfileRef<'a> {
    /// The resource group holding the profile.
    pub resource_profiles: &'a ResourceProfiles,
    /// The scope group holding the profile.
    pub scope_profiles: &'a ScopeProfiles,
    /// The profile.
    pub profile: &'a Profile,
}

impl<'a> ProfileRef<'a> {
    /// The resource, if the sender set one.
    #[must_use]
    pub fn resource(&self) -> Option<&'a Resource> {
        self.resource_profiles.resource.as_ref()
    }

    /// The instrumentation scope, if the sender set one.
    #[must_use]
    pub fn scope(&self) -> Option<&'a InstrumentationScope> {
        self.scope_profiles.scope.as_ref()
    }

    /// The resource's `service.name`, if it is a string.
    #[must_use]
    pub fn service_name(&self) -> Option<&'a str> {
        super::service_name(self.resource())
    }

    /// The number of samples in this profile.
    #[must_use]
    pub fn sample_count(&self) -> usize {
        self.profile.samples.len()
    }

    /// The 16-byte profile id; `None` if the field is not exactly 16 bytes.
    #[must_use]
    pub fn profile_id(&self) -> Option<[u8; 16]> {
        self.profile.profile_id.as_slice().try_into().ok()
    }
}
