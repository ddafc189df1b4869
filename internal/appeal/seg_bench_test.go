package appeal

import "testing"

func BenchmarkSegment(b *testing.B) {
	t := "市民来电反映：东华街道幸福里小区垃圾桶满溢无人清运，严重影响市容市貌，已经一周了，希望相关部门尽快处理。"
	Segment(t)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Segment(t)
	}
}
