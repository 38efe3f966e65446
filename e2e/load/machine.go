package load

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the numbers were taken.
type Machine struct {
	CPUModel  string
	Cores     int
	MemoryGiB float64 // 0: unknown
	GoVersion string
	OS        string
	// LoadAvg is the one-minute load average when the run began ("" when
	// unknown): a busy machine makes every number worse.
	LoadAvg string
}

// ThisMachine reads /proc for the CPU model, memory and load.
func ThisMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		CPUModel: procField("/proc/cpuinfo", "model name")}
	if kb, err := strconv.ParseFloat(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 64); err == nil {
		m.MemoryGiB = kb / (1 << 20)
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			m.LoadAvg = f[0]
		}
	}
	return m
}

// String is the machine in one line.
func (m Machine) String() string {
	s := fmt.Sprintf("%s, %d cores, ", m.CPUModel, m.Cores)
	if m.MemoryGiB > 0 {
		s += fmt.Sprintf("%.1f GiB memory, ", m.MemoryGiB)
	}
	s += m.GoVersion + ", " + m.OS
	if m.LoadAvg != "" {
		s += ", load average " + m.LoadAvg + " at the start"
	}
	return s
}

// procField is the value of the first "key: value" line named key, or
// "unknown".
func procField(path, key string) string {
	f, err := os.Open(path) //nolint:gosec // a fixed system file
	if err != nil {
		return "unknown"
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
