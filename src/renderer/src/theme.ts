import { ref, watch } from 'vue'

/** The colour theme: light or dark; starts from the saved choice, else the system setting. */
export type ThemeName = 'light' | 'dark'

const KEY = 'nas-studio.theme'

function initial(): ThemeName {
  try {
    const saved = localStorage.getItem(KEY)
    if (saved === 'light' || saved === 'dark') return saved
  } catch {
    // storage may be unavailable; fall back to the system setting
  }
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches
    ? 'dark'
    : 'light'
}

/** The app-wide theme; `<html data-theme>` follows it so styles.css switches its colour variables. */
export const theme = ref<ThemeName>(initial())

function apply(name: ThemeName): void {
  if (typeof document !== 'undefined') document.documentElement.dataset.theme = name
}
apply(theme.value)
watch(theme, (name) => {
  apply(name)
  try {
    localStorage.setItem(KEY, name)
  } catch {
    // not saved; the choice still holds for this window
  }
})

/** Switches between light and dark. */
export function toggleTheme(): void {
  theme.value = theme.value === 'dark' ? 'light' : 'dark'
}
