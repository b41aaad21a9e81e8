//! libtorch runtime facts and device selection.

use std::fmt;

/// The libtorch version found at build time (from the torch package's `version.py`).
pub const LIBTORCH_VERSION: &str = env!("NEGLECT_LIBTORCH_VERSION");
/// The libtorch `lib/` folder recorded as this binary's run path.
pub const LIBTORCH_LIB: &str = env!("NEGLECT_LIBTORCH_LIB");
/// Whether `libtorch_cuda.so` was linked into this binary (see `neglect-build-support`).
pub const CUDA_LINKED: bool = const_str_is_true(env!("NEGLECT_CUDA_LINKED"));

const fn const_str_is_true(s: &str) -> bool {
    matches!(s.as_bytes(), b"true")
}

pub use neglect_spec::device::Device;

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error(
        "CUDA was requested but this binary was built without libtorch_cuda linked \
         (libtorch at {LIBTORCH_LIB}); rebuild against a CUDA torch install \
         (see README, 'GPU machines')"
    )]
    CudaNotLinked,
    #[error("CUDA was requested but no GPU is visible (libtorch_cuda is linked; {0} devices)")]
    NoGpu(usize),
    #[error("cuda:{index} was requested but only {count} CUDA devices are visible")]
    NoSuchGpu { index: usize, count: usize },
}

/// Checks that the device can be used in this process and returns the tch device.
pub fn resolve_device(device: Device) -> Result<tch::Device, DeviceError> {
    match device {
        Device::Cpu => Ok(tch::Device::Cpu),
        Device::Cuda(index) => {
            if !CUDA_LINKED {
                return Err(DeviceError::CudaNotLinked);
            }
            let count = tch::Cuda::device_count() as usize;
            if count == 0 {
                return Err(DeviceError::NoGpu(count));
            }
            if index >= count {
                return Err(DeviceError::NoSuchGpu { index, count });
            }
            Ok(tch::Device::Cuda(index))
        }
    }
}

/// Whether this CPU multiplies bf16 matrices natively (AMX-BF16 or AVX512-BF16). Without it
/// libtorch emulates bf16 matmuls, measured 13× slower than fp32 on an AVX2-only EPYC (30 s
/// against 2.3 s per organism pretraining step), so bf16 training on such a CPU runs in fp32.
pub fn cpu_has_native_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::fs::read_to_string("/proc/cpuinfo")
            .map(|info| cpuinfo_has_bf16(&info))
            .unwrap_or(false)
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("bf16")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// True when a `/proc/cpuinfo` text lists `amx_bf16` or `avx512_bf16` among its flags.
pub fn cpuinfo_has_bf16(cpuinfo: &str) -> bool {
    cpuinfo
        .lines()
        .filter(|l| l.starts_with("flags"))
        .flat_map(|l| l.split_whitespace())
        .any(|f| f == "amx_bf16" || f == "avx512_bf16")
}

/// The matmul precision a training run uses: bf16 where asked and where the device does it
/// natively (any CUDA device; a CPU with AMX or AVX512-BF16), fp32 otherwise.
pub fn bf16_usable(requested: bool, device: tch::Device) -> bool {
    requested && (device != tch::Device::Cpu || cpu_has_native_bf16())
}

/// Sets the number of CPU threads libtorch uses for intra-op parallelism (0 = leave as is).
pub fn set_threads(threads: usize) {
    if threads > 0 {
        tch::set_num_threads(threads as i32);
    }
}

/// What this process's libtorch can do, for `neglect --version` and bug reports.
#[derive(Debug, Clone)]
pub struct RuntimeInfo {
    pub libtorch_version: &'static str,
    pub libtorch_lib: &'static str,
    pub cuda_linked: bool,
    pub cuda_devices: usize,
    pub cpu_threads: i32,
    pub mkl: bool,
}

impl RuntimeInfo {
    pub fn current() -> Self {
        RuntimeInfo {
            libtorch_version: LIBTORCH_VERSION,
            libtorch_lib: LIBTORCH_LIB,
            cuda_linked: CUDA_LINKED,
            cuda_devices: if CUDA_LINKED {
                tch::Cuda::device_count() as usize
            } else {
                0
            },
            cpu_threads: tch::get_num_threads(),
            mkl: tch::utils::has_mkl(),
        }
    }
}

impl fmt::Display for RuntimeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cuda = match (self.cuda_linked, self.cuda_devices) {
            (false, _) => "not linked (CPU-only build)".to_owned(),
            (true, 0) => "linked, no GPU visible".to_owned(),
            (true, n) => format!("linked, {n} GPU(s) visible"),
        };
        writeln!(
            f,
            "libtorch {} ({})",
            self.libtorch_version, self.libtorch_lib
        )?;
        writeln!(f, "cuda: {cuda}")?;
        write!(
            f,
            "cpu: {} threads, mkl {}",
            self.cpu_threads,
            if self.mkl { "yes" } else { "no" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bf16_is_native_only_with_amx_or_avx512_bf16() {
        let flags = |f: &str| format!("processor\t: 0\nflags\t\t: fpu sse2 avx2 {f}\n");
        assert!(!cpuinfo_has_bf16(&flags("fma")));
        assert!(cpuinfo_has_bf16(&flags("avx512f avx512_bf16")));
        assert!(cpuinfo_has_bf16(&flags("amx_bf16 amx_tile")));
        assert!(!bf16_usable(false, tch::Device::Cpu));
        assert!(!bf16_usable(true, tch::Device::Cpu) || cpu_has_native_bf16());
    }

    #[test]
    fn libtorch_computes_on_cpu() {
        let device = resolve_device(Device::Cpu).unwrap();
        let a = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0])
            .reshape([2, 2])
            .to(device);
        let product = a.matmul(&a);
        let values: Vec<f32> = product.flatten(0, 1).try_into().unwrap();
        assert_eq!(values, vec![7.0, 10.0, 15.0, 22.0]);
    }

    #[test]
    fn built_against_torch_2_11() {
        assert!(
            LIBTORCH_VERSION.starts_with("2.11.0"),
            "built against {LIBTORCH_VERSION}"
        );
    }

    /// The CUDA link fix is only real if `libtorch_cuda.so` is loaded into the process exactly
    /// when the build says it was linked.
    #[test]
    fn cuda_library_loaded_iff_linked() {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let loaded = maps.contains("libtorch_cuda.so");
        assert_eq!(loaded, CUDA_LINKED, "libtorch_cuda.so mapped: {loaded}");
        if !CUDA_LINKED {
            assert!(matches!(
                resolve_device(Device::Cuda(0)),
                Err(DeviceError::CudaNotLinked)
            ));
        }
    }

    #[test]
    fn libtorch_is_loaded_from_the_build_time_folder() {
        // Tests run without LD_LIBRARY_PATH (see the Makefile); libtorch is found through the
        // run path recorded by build-support, so it must come from the folder named there.
        if std::env::var_os("LD_LIBRARY_PATH").is_some() {
            return;
        }
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let loaded = maps
            .lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .find(|p| p.ends_with("/libtorch_cpu.so"))
            .expect("libtorch_cpu.so is mapped");
        let expected = std::path::Path::new(LIBTORCH_LIB)
            .join("libtorch_cpu.so")
            .canonicalize()
            .unwrap();
        assert_eq!(std::path::Path::new(loaded), expected);
    }
}
