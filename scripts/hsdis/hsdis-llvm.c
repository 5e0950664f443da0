/*
 * A minimal HotSpot disassembler plugin (hsdis) over LLVM's C disassembler API, so that
 * -XX:+PrintAssembly and -XX:CompileCommand=print show the machine code C2 made of a kernel.
 *
 * HotSpot loads "hsdis-amd64.so" from its library path and calls decode_instructions_virtual for each
 * block of code; we print one instruction per line and report each instruction's start and end through
 * the event callback, which is how HotSpot places its comments (bytecode positions, oop maps).
 * Only the X86 target is initialised. Build: scripts/build-hsdis.sh.
 */
#include <stddef.h>
#include <stdint.h>

typedef void *LLVMDisasmContextRef;
extern LLVMDisasmContextRef LLVMCreateDisasm(const char *triple, void *info, int tagType, void *getOpInfo,
                                             void *symbolLookUp);
extern size_t LLVMDisasmInstruction(LLVMDisasmContextRef dc, uint8_t *bytes, uint64_t size, uint64_t pc,
                                    char *out, size_t outSize);
extern int LLVMSetDisasmOptions(LLVMDisasmContextRef dc, uint64_t options);
extern void LLVMInitializeX86TargetInfo(void);
extern void LLVMInitializeX86TargetMC(void);
extern void LLVMInitializeX86Disassembler(void);

#define LLVM_DISASM_OPTION_PRINT_IMM_HEX 2
#define LLVM_DISASM_OPTION_ASM_PRINTER_VARIANT 4 /* Intel syntax */

typedef void *(*event_callback_t)(void *stream, const char *event, void *arg);
typedef int (*printf_callback_t)(void *stream, const char *format, ...);

static LLVMDisasmContextRef context;

void *decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va, unsigned char *buffer, uintptr_t length,
                                  event_callback_t event, void *event_stream, printf_callback_t print,
                                  void *print_stream, const char *options, int newline) {
    (void) options;
    if (context == NULL) {
        LLVMInitializeX86TargetInfo();
        LLVMInitializeX86TargetMC();
        LLVMInitializeX86Disassembler();
        context = LLVMCreateDisasm("x86_64-pc-linux-gnu", NULL, 0, NULL, NULL);
        if (context == NULL) return NULL;
        LLVMSetDisasmOptions(context, LLVM_DISASM_OPTION_PRINT_IMM_HEX | LLVM_DISASM_OPTION_ASM_PRINTER_VARIANT);
    }
    char text[256];
    uintptr_t pc = start_va;
    while (pc < end_va) {
        uintptr_t at = pc - start_va;
        if (event) event(event_stream, "insn", (void *) pc);
        size_t n = LLVMDisasmInstruction(context, buffer + at, length - at, pc, text, sizeof text);
        if (n == 0) {
            print(print_stream, "\t(bad)");
            n = 1;
        } else {
            print(print_stream, "%s", text);
        }
        pc += n;
        if (event) event(event_stream, "/insn", (void *) pc);
        if (newline) print(print_stream, "\n");
    }
    return (void *) pc;
}
