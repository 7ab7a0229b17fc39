# The busy guest: an MBR boot sector that makes a guest's memory worth migrating.
#
# SeaBIOS loads this sector at 0x7c00 and jumps to it in real mode. It turns
# A20 on (the "fast A20" bit of port 0x92), switches to 32-bit protected mode
# with a flat GDT and interrupts off, then writes into every 4 KiB page from
# 1 MiB up to FILL_MIB MiB two dwords: a non-zero value at offset 0 and the
# page's own address at offset 4. Zero pages migrate as a few bytes each;
# these go whole.
#
# After each pass over the pages it adds one to PASSES (in this sector, so at
# 0x7c00 + its offset in guest memory). Then, by MODE:
#   0  fill-once:      halts for good (hlt in a loop, interrupts off);
#   1  keep-dirtying:  adds one to the value (skipping 0) and writes every page again, forever.
#
# The fields from MAGIC on sit at fixed offsets (see busy-guest.ts), patched in
# the image; the values below are the defaults of an unpatched image.

        .code16
        .text
        .globl _start
_start:
        cli
        cld
        xor     %ax, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     $0x7c00, %sp
        ljmp    $0, $real_mode              # CS:IP as 0000:7cxx whatever the BIOS jumped with

real_mode:
        in      $0x92, %al                  # A20 on; bit 0 would reset the machine
        or      $0x02, %al
        and     $0xfe, %al
        out     %al, $0x92
        lgdt    gdt_descriptor
        mov     %cr0, %eax
        or      $1, %eax                    # PE
        mov     %eax, %cr0
        ljmp    $0x08, $protected_mode

        .code32
protected_mode:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %fs
        mov     %ax, %gs
        mov     %ax, %ss
        mov     $0x7c00, %esp
        mov     fill_mib, %ecx
        shl     $20, %ecx                   # the end of the fill, exclusive
        mov     first_value, %edx

pass:
        mov     $0x100000, %edi
page:
        mov     %edx, (%edi)
        mov     %edi, 4(%edi)
        add     $4096, %edi
        cmp     %ecx, %edi
        jb      page
        incl    passes
        cmpl    $0, mode
        je      halt
        inc     %edx
        jnz     pass
        inc     %edx                        # never write 0
        jmp     pass

halt:
        hlt
        jmp     halt

        .p2align 3
gdt:
        .quad   0
        .quad   0x00cf9a000000ffff          # 0x08: code, base 0, limit 4 GiB, 32-bit
        .quad   0x00cf92000000ffff          # 0x10: data, base 0, limit 4 GiB
gdt_descriptor:
        .word   gdt_descriptor - gdt - 1
        .long   gdt

        .org    0x1a0
magic:  .ascii  "BUSY"                      # 0x1a0
fill_mib:
        .long   16                          # 0x1a4: fill pages from 1 MiB up to this many MiB
mode:   .long   0                           # 0x1a8: 0 fill-once, 1 keep-dirtying
first_value:
        .long   0x5a5a0001                  # 0x1ac: the value of the first pass, not 0
passes: .long   0                           # 0x1b0: passes completed, counted by the guest

        .org    0x1fe
        .word   0xaa55
