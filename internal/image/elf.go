package image

import (
	"debug/elf"
	"errors"
	"fmt"
)

// elfMachines maps GOARCH to the ELF machine of its executables.
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
}

// checkStatic fails unless the file at host is a statically linked ELF
// executable that runs on arch.
func checkStatic(host, arch string) error {
	f, err := elf.Open(host)
	if err != nil {
		return fmt.Errorf("read %s as ELF: %w", host, err)
	}
	defer f.Close()
	if want, ok := elfMachines[arch]; !ok {
		return fmt.Errorf("no ELF machine is known for architecture %s", arch)
	} else if f.Machine != want {
		return fmt.Errorf("%s is a %s executable, not %s (%s)", host, f.Machine, want, arch)
	}
	for _, p := range f.Progs {
		// A program interpreter (ld.so) is what a dynamic executable
		// needs and an image without a distribution lacks.
		if p.Type == elf.PT_INTERP {
			return errors.New(host + " is dynamically linked")
		}
	}
	return nil
}
