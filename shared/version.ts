export const droverVersion = '0.1.0';
