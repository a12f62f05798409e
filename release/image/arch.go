package image

import (
	"debug/elf"
	"fmt"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// elfArchs maps ELF machines to GOARCH-style architecture names.
var elfArchs = map[elf.Machine]string{
	elf.EM_X86_64:  "amd64",
	elf.EM_AARCH64: "arm64",
	elf.EM_386:     "386",
	elf.EM_ARM:     "arm",
	elf.EM_PPC64:   "ppc64le",
	elf.EM_S390:    "s390x",
	elf.EM_RISCV:   "riscv64",
}

// checkERTSArch refuses to put a bundled ERTS into an image of another
// architecture: the pods would fail with "exec format error". The check
// reads the ELF header of erts-*/bin/beam.smp; anything that is not ELF
// (or an unknown machine) is not judged.
func checkERTSArch(dir string, rel Release, p v1.Platform) error {
	if rel.ERTSDir == "" {
		return nil
	}
	beam := filepath.Join(dir, rel.ERTSDir, "bin", "beam.smp")
	f, err := elf.Open(beam)
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }()
	arch, ok := elfArchs[f.Machine]
	if f.Machine == elf.EM_PPC64 && f.Data == elf.ELFDATA2MSB {
		arch = "ppc64"
	}
	if !ok || arch == p.Architecture {
		return nil
	}
	return fmt.Errorf("%s is built for %s but the image platform is %s: build the release on (or for) %s",
		beam, arch, p.String(), p.Architecture)
}
